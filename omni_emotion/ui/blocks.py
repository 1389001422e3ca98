"""The app: ``build_demo(pipeline, config) -> gr.Blocks`` with Live, Analyze, Evaluate and Status tabs."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from omni_emotion.live import LiveModels, load_live_models
from omni_emotion.ui.analyze_tab import build_analyze_tab
from omni_emotion.ui.config import UIConfig
from omni_emotion.ui.context import UIContext
from omni_emotion.ui.evaluate_tab import build_evaluate_tab
from omni_emotion.ui.live_tab import build_live_tab
from omni_emotion.ui.status_tab import build_status_tab
from omni_emotion.ui.tempfiles import DELETE_CACHE

__all__ = ["build_demo", "launch_kwargs"]


def build_demo(pipeline, config: UIConfig | None = None, live_models: LiveModels | None = None) -> gr.Blocks:
    """Build the Blocks app around one pipeline (models loaded once, shared by every tab and session).

    pipeline:     an EmotionPipeline; its lock serialises every analysis, whichever tab asks.
    live_models:  the fast-path models; by default the pipeline's face detector and expression model.
    The queue is bounded (``config.queue_size``).
    Uploads and outputs go where ``GRADIO_TEMP_DIR`` points when this runs: serve inside
    ``tempfiles.app_temp_dir()`` to keep them in one private folder removed at shutdown.
    """
    config = config or UIConfig()
    if live_models is None:
        live_models = load_live_models(pipeline)
    ctx = UIContext(pipeline=pipeline, config=config, live_models=live_models)
    # a local demo phones nowhere (no version check, no telemetry); uploads expire (see ui/tempfiles.py)
    with gr.Blocks(title=config.title, analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(
            f"# {config.title}\nOpen-vocabulary emotion recognition from face, voice and words "
            f"· engine **{pipeline.engine_name}**"
        )
        with gr.Tabs():
            build_live_tab(ctx)
            build_analyze_tab(ctx)
            build_evaluate_tab(ctx)
            build_status_tab(ctx)
    demo.queue(max_size=config.queue_size, default_concurrency_limit=1)
    return demo


def launch_kwargs(config: UIConfig) -> dict:
    """The launch() settings that belong to the config: upload limit, page style, and the example clips as
    the only files outside the app's own folders that the page may play back (each file, not its folder)."""
    style = Path(__file__).with_name("app.css")  # package data, so wheel installs have it too
    return {
        "max_file_size": f"{int(config.max_upload_mb)}mb",
        "css": style.read_text(),
        "allowed_paths": [str(p) for p in config.examples],
    }
