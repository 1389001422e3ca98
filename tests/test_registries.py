"""A new engine and a new face detector are one registry entry each: they appear in every CLI choice list
and on the Status tab, and ``analyze`` runs them, with no other file touched."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from omni_emotion.cli import build_parser, main
from omni_emotion.engines.registry import ENGINES, EngineEntry
from omni_emotion.errors import ConfigError
from omni_emotion.faces.detectors import Detection
from omni_emotion.faces.registry import DETECTORS, DetectorEntry
from omni_emotion.registry import AUTO, Registry
from omni_emotion.types import Analysis, Perception


class ToyEngine:
    """Names the number of faces it was given: proof that the toy detector's faces reached it."""

    name = "toy"
    expressions = None

    def analyze(self, perception: Perception, progress=None) -> Analysis:
        return Analysis(
            labels=[f"faces-{len(perception.faces)}"],
            explanation="toy",
            engine=self.name,
            faces=[f.summary() for f in perception.faces],
        )


class CentreDetector:
    """One face in the middle of every frame."""

    name = "centre"

    def detect(self, frame_rgb: np.ndarray) -> list[Detection]:
        h, w = frame_rgb.shape[:2]
        box = np.array([w * 0.3, h * 0.2, w * 0.7, h * 0.8], np.float32)
        return [Detection(box=box, score=0.99)]


TOY_ENGINE = EngineEntry("toy", "a test engine", load=lambda device, weights_dir: ToyEngine(), num_frames=4)
TOY_DETECTOR = DetectorEntry(
    "centre", "a test detector", load=lambda device: CentreDetector(), is_available=lambda: True
)


@pytest.fixture
def toys():
    with ENGINES.registered(TOY_ENGINE), DETECTORS.registered(TOY_DETECTOR):
        yield
    assert "toy" not in ENGINES.names() and "centre" not in DETECTORS.names()


def _choices(parser, command: str, option: str) -> tuple[str, ...]:
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices[command]
    return tuple(next(a for a in sub._actions if option in a.option_strings).choices)


@pytest.mark.parametrize("command", ["analyze", "eval", "serve", "live"])
def test_registered_names_are_cli_choices(toys, command):
    parser = build_parser()
    assert "toy" in _choices(parser, command, "--engine")
    assert "centre" in _choices(parser, command, "--face-backend")


def test_status_tab_lists_the_registered_entries(toys, tmp_path):
    from omni_emotion.ui.config import UIConfig
    from omni_emotion.ui.status_tab import status_report

    pipeline = SimpleNamespace(engine_name="toy", face_backend="centre", device="cpu", weights_dir=tmp_path)
    report = status_report(SimpleNamespace(pipeline=pipeline, config=UIConfig()))
    engines = {e["name"]: e for e in report["engines"]}
    detectors = {d["name"]: d for d in report["face_detectors"]}
    assert engines["toy"]["available"] and engines["toy"]["summary"] == "a test engine"
    assert detectors["centre"]["available"] and report["face_backend"] == "centre"
    assert not engines["omni"]["available"]  # no assembled model in tmp_path, no GPU


def test_analyze_runs_the_toy_engine_on_the_toy_detector(toys, make_av, capsys, tmp_path):
    clip = make_av("face.mp4", seconds=1.0)
    code = main(
        [
            "analyze",
            str(clip),
            "--engine",
            "toy",
            "--face-backend",
            "centre",
            "--json",
            "--weights-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    analysis = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert analysis["engine"] == "toy" and analysis["labels"] == ["faces-1"]
    face = analysis["faces"][0]  # the centre detector's face: 40 % of the 320 px source width
    assert face["main"] and face["mean_face_px"] == pytest.approx(128, abs=2) and face["mean_score"] == 0.99


def test_auto_takes_the_highest_ranked_available_entry():
    registry: Registry = Registry("thing")
    registry.register(EngineEntry("low", "", load="x:y"))
    registry.register(EngineEntry("high", "", load="x:y", is_available=lambda folder: False, rank=5))
    assert registry.resolve(AUTO, Path(".")).name == "low"
    registry.register(EngineEntry("best", "", load="x:y", rank=9))
    assert registry.resolve(AUTO, Path(".")).name == "best"
    assert registry.choices() == (AUTO, "low", "high", "best")
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(EngineEntry("low", "", load="x:y"))
    with pytest.raises(ConfigError, match="choose one of auto, low, high, best"):
        registry.get("nope")


def test_an_entry_whose_dependencies_are_missing_is_unavailable():
    entry = EngineEntry("ghost", "", load="x:y", is_available="omni_emotion_missing_package.module:check")
    assert not entry.available(Path("."))
