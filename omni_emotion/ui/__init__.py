"""The Gradio web app: Live, Analyze, Evaluate and Status tabs around one EmotionPipeline."""

from omni_emotion.ui.blocks import build_demo, launch_kwargs
from omni_emotion.ui.config import UIConfig

__all__ = ["UIConfig", "build_demo", "launch_kwargs"]
