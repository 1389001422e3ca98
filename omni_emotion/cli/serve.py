"""`omni-emotion serve`: the web app (the same as `python app.py`), served by ``ui.serve.serve_app``. Gradio
loads inside the command, so the rest of the CLI stays fast."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from omni_emotion.cli.options import add_live_pipeline_arguments, load_live_pipeline
from omni_emotion.errors import ConfigError

__all__ = ["add_serve_arguments", "register", "serve"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add_live_pipeline_arguments(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument(
        "--share", action="store_true", help="also open a public gradio.live link (off by default)"
    )
    parser.add_argument(
        "--data-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory the Evaluate tab may read (repeatable); nothing else is readable there",
    )
    parser.add_argument(
        "--examples",
        metavar="DIR",
        default=None,
        help="a folder of example clips offered on the Analyze tab (default: spoken examples "
        "the app makes once with espeak-ng)",
    )
    parser.add_argument(
        "--max-upload-mb", type=float, default=500.0, help="largest upload accepted (default 500)"
    )


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
    """The options into a ``UIConfig`` and ``ServeOptions`` for ``ui.serve.serve_app``."""
    from omni_emotion.heap import limit_arenas
    from omni_emotion.ui import UIConfig
    from omni_emotion.ui.serve import ServeOptions, serve_app

    limit_arenas(os.cpu_count() or 1)  # before the server's threads: fewer arenas keep less freed memory
    config = UIConfig(
        data_dirs=tuple(args.data_dir),
        examples=_example_clips(args.examples),
        max_upload_mb=args.max_upload_mb,
    )
    options = ServeOptions(host=args.host, port=args.port, share=args.share)
    return serve_app(lambda: load_live_pipeline(args), config, options)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="the web app (Live, Analyze, Evaluate, Status); same as app.py"
    )
    add_serve_arguments(parser)
    parser.set_defaults(func=serve)
