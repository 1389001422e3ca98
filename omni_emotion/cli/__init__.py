"""The `omni-emotion` console script.

Each command is one module of this package, named after it, that registers its subcommand
(``register(subparsers)``), parses its options and calls the library; this file stays a thin dispatcher.
User-caused errors (``OmniEmotionError``) are printed as one sentence with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from omni_emotion import __version__
from omni_emotion.errors import OmniEmotionError, printable

__all__ = ["build_parser", "main"]

# Modules that define `register(subparsers)`; each subparser sets `func(args) -> int`.
COMMAND_MODULES = (
    "omni_emotion.cli.probe",
    "omni_emotion.cli.analyze",
    "omni_emotion.cli.eval",
    "omni_emotion.cli.weights",
    "omni_emotion.cli.live",
    "omni_emotion.cli.serve",
    "omni_emotion.cli.train",
)

EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omni-emotion",
        description="Open-vocabulary multimodal emotion recognition: face, voice and words.",
    )
    parser.add_argument("--version", action="version", version=f"omni-emotion {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    if not args.verbose:
        from omni_emotion.console import quiet_libraries

        quiet_libraries()
    try:
        return int(args.func(args) or 0)
    except OmniEmotionError as err:
        print(f"omni-emotion: error: {printable(str(err))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("omni-emotion: interrupted", file=sys.stderr)
        return 130
