#!/usr/bin/env bash
# Download here the wheels bench/gpu_check.sh installs on the GPU machine, which has no package registry:
# cp312 manylinux x86_64 builds of what its image lacks or holds at another version than requirements.lock.
# The image (Python 3.12, torch 2.11, transformers 5.17, tokenizers 0.23.2, huggingface_hub 1.33,
# safetensors 0.8, numpy, scipy, pillow, pytest, hypothesis, torchvision, peft) covers everything else the
# model code, its CUDA tests and the latency bench import. The wheels land in .whl/ (git-ignored) and travel
# with the run: `carry: [".whl"]`.
#
#   bash scripts/gpu-wheels.sh        # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.whl
# transformers at the lock's version: the one the project is tested with (the code also runs on 5.17)
PACKAGES=("transformers==$(sed -n 's/^transformers==//p' requirements.lock)")
mkdir -p "$DEST"
PY=${PYTHON:-python3}
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$DEST" "${PACKAGES[@]}"
ls -l "$DEST"
