"""The Omni-Emotion MLLM (transformers conventions): config, modeling, processor, token layout.

The names below load on first use: importing a submodule (``weights status`` reads
``omni_emotion.model.config``) must not pull in torch and transformers, which take seconds before the CLI
can even print a user error.
"""

from __future__ import annotations

from omni_emotion.lazy import lazy_attributes

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


__getattr__ = lazy_attributes(__name__, _HOMES)
