"""Serving the web app: build it around one pipeline, launch it, print where it is, and run until interrupted
(Ctrl+C or SIGTERM), removing the app's temporary folder either way. ``omni-emotion serve`` parses its
options into a ``ServeOptions`` and a ``UIConfig`` and calls ``serve_app``."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omni_emotion.pipeline import EmotionPipeline
    from omni_emotion.ui.config import UIConfig

__all__ = ["ServeOptions", "ready_line", "serve_app"]


@dataclass(frozen=True)
class ServeOptions:
    """Where the app listens: ``host`` (127.0.0.1: this machine only), ``port``, and ``share`` (also a public
    gradio.live link)."""

    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False


def serve_app(load_pipeline: Callable[[], EmotionPipeline], config: UIConfig, options: ServeOptions) -> int:
    """Build the pipeline once, build the app around it and serve it until interrupted."""
    from omni_emotion.ui import build_demo, launch_kwargs
    from omni_emotion.ui.tempfiles import app_temp_dir

    pipeline = load_pipeline()
    # `kill` stops the app like Ctrl+C, so the uploads folder is removed either way
    signal.signal(signal.SIGTERM, _interrupt)
    with app_temp_dir():
        demo = build_demo(pipeline, config)
        # Gradio's own lines are off (quiet): they tell the user to edit launch(); ours name this app's flags
        demo.launch(
            server_name=options.host,
            server_port=options.port,
            share=options.share,
            quiet=True,
            prevent_thread_lock=True,
            **launch_kwargs(config),
        )
        print(ready_line(demo.local_url, demo.share_url, options.host), file=sys.stderr, flush=True)
        try:
            while demo.is_running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            demo.close()
    return 0


def ready_line(local_url: str, share_url: str | None, host: str) -> str:
    """The one line ``serve`` prints when the app is up, with the flags that change who can reach it."""
    line = f"omni-emotion: serving on {local_url}"
    if share_url:
        return f"{line} and publicly on {share_url} (anyone with the link can use it); Ctrl+C stops it"
    reach = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else f"the network ({host})"
    return f"{line} ({reach}; --share adds a public link); Ctrl+C stops it"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
