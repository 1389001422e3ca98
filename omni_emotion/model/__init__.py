"""The Omni-Emotion MLLM (transformers conventions): config, modeling, processor, token layout.

The names below load on first use: importing a submodule (the CLI's ``omni_emotion.model.cli``) must not
pull in torch and transformers, which take seconds before the CLI can even print a user error.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "FUSION_MODES",
    "SPECIAL_TOKENS",
    "OmniEmotionConfig",
    "OmniEmotionForConditionalGeneration",
    "OmniEmotionProcessor",
    "ProcessorConfig",
]

_HOMES = {
    "FUSION_MODES": "config",
    "SPECIAL_TOKENS": "config",
    "OmniEmotionConfig": "config",
    "OmniEmotionForConditionalGeneration": "modeling",
    "OmniEmotionProcessor": "processor",
    "ProcessorConfig": "processor",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
