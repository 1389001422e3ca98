"""`omni-emotion serve`: the web app (the same as `python app.py`). Gradio loads inside the command, so the
rest of the CLI stays fast."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from omni_emotion.cli.options import add_live_pipeline_arguments, load_live_pipeline
from omni_emotion.errors import ConfigError

__all__ = ["add_serve_arguments", "register", "serve"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add_live_pipeline_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    parser.add_argument("--data-dir", action="append", default=[], metavar="DIR",
                        help="a directory the Evaluate tab may read (repeatable); nothing else is readable there")
    parser.add_argument("--examples", metavar="DIR", default=None,
                        help="a folder of example clips offered on the Analyze tab (default: spoken examples "
                             "the app makes once with espeak-ng)")
    parser.add_argument("--max-upload-mb", type=float, default=500.0, help="largest upload accepted (default 500)")


def _example_clips(folder: str | None) -> tuple[Path, ...]:
    from omni_emotion.media import MEDIA_SUFFIXES

    if not folder:
        from omni_emotion.paths import cache_root
        from omni_emotion.ui.examples import make_examples

        return make_examples(cache_root() / "examples")
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ConfigError(f"The examples folder {path} does not exist.")
    return tuple(sorted(p for p in path.iterdir() if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file()))[:20]


def serve(args: argparse.Namespace) -> int:
    """Build the pipeline once, build the app around it and serve it until interrupted."""
    from omni_emotion.heap import limit_arenas
    from omni_emotion.ui import UIConfig, build_demo, launch_kwargs
    from omni_emotion.ui.tempfiles import app_temp_dir

    limit_arenas(os.cpu_count() or 1)  # before the server's threads: fewer arenas keep less freed memory
    config = UIConfig(data_dirs=tuple(args.data_dir), examples=_example_clips(args.examples),
                      max_upload_mb=args.max_upload_mb)
    pipeline = load_live_pipeline(args)
    # `kill` stops the app like Ctrl+C, so the uploads folder is removed either way
    signal.signal(signal.SIGTERM, _interrupt)
    with app_temp_dir():
        demo = build_demo(pipeline, config)
        # Gradio's own lines are off (quiet): they tell the user to edit launch(); ours name this app's flags
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, quiet=True,
                    prevent_thread_lock=True, **launch_kwargs(config))
        print(ready_line(demo.local_url, demo.share_url, args.host), file=sys.stderr, flush=True)
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


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="the web app (Live, Analyze, Evaluate, Status); same as app.py")
    add_serve_arguments(parser)
    parser.set_defaults(func=serve)
