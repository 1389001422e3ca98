"""The Gradio web app: Live, Analyze, Evaluate and Status tabs around one EmotionPipeline.

The names load on first use: importing one submodule (``omni_emotion.ui.tempfiles``) loads no Gradio.
"""

from __future__ import annotations

from omni_emotion.lazy import lazy_attributes

_HOMES = {"build_demo": "blocks", "launch_kwargs": "blocks", "UIConfig": "config"}

__all__ = sorted(_HOMES)

__getattr__ = lazy_attributes(__name__, _HOMES)
