"""The Omni-Emotion MLLM (transformers conventions): config, modeling, processor, token layout."""

from omni_emotion.model.config import FUSION_MODES, SPECIAL_TOKENS, OmniEmotionConfig
from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig

__all__ = [
    "FUSION_MODES",
    "SPECIAL_TOKENS",
    "OmniEmotionConfig",
    "OmniEmotionForConditionalGeneration",
    "OmniEmotionProcessor",
    "ProcessorConfig",
]
