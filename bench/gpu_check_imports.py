"""Import every module the GPU check and the training code use, so a missing or wrong package shows at once
(``bench/gpu_check.sh --dry-run`` runs this with the carried wheels first on the path); prints one JSON line."""

from __future__ import annotations

import argparse
import importlib
import json

MODULES = [
    "omni_emotion.model.modeling",
    "omni_emotion.model.processor",
    "omni_emotion.model.presets",
    "omni_emotion.engines.omni",
    "omni_emotion.training.trainer",
    "omni_emotion.training.grpo",
    "omni_emotion.training.lora",
    "omni_emotion.training.distributed",
    "omni_emotion.model.encoders.face",
    "omni_emotion.model.encoders.audio",
    "omni_emotion.model.encoders.vision",
]


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    import torch
    import transformers

    for name in MODULES:
        importlib.import_module(name)
    print(
        json.dumps(
            {
                "transformers": transformers.__version__,
                "transformers_at": transformers.__file__,
                "torch": torch.__version__,
                "cuda": torch.cuda.is_available(),
                "modules": len(MODULES),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
