"""Import every module the GPU check and the training code use, so a missing or wrong package shows at once
(``bench/gpu_check.sh --dry-run`` imports this with the carried wheels first on the path)."""

import importlib
import json

import torch
import transformers

MODULES = [
    "omni_emotion.model.modeling", "omni_emotion.model.processor", "omni_emotion.model.presets",
    "omni_emotion.engines.omni", "omni_emotion.training.trainer", "omni_emotion.training.grpo",
    "omni_emotion.training.lora", "omni_emotion.training.distributed", "encoders.face", "encoders.audio",
    "encoders.vision",
]
for name in MODULES:
    importlib.import_module(name)
print(json.dumps({"transformers": transformers.__version__, "transformers_at": transformers.__file__,
                  "torch": torch.__version__, "cuda": torch.cuda.is_available(), "modules": len(MODULES)}))
