"""UI building blocks without a server: rendering, colours, overlays, allowed paths, evaluation tables."""

from __future__ import annotations

import os

import numpy as np
import pytest

from omni_emotion.errors import ConfigError, EvaluationDataError
from omni_emotion.lexicon import FAMILIES
from omni_emotion.live import LiveFace
from omni_emotion.types import Analysis, Clues, FaceTrack
from omni_emotion.ui.analyze_tab import timeline_arrays
from omni_emotion.ui.colours import OTHER_COLOUR, expression_colour, label_colour
from omni_emotion.ui.config import UIConfig, list_allowed_files, resolve_allowed
from omni_emotion.ui.draw import draw_overlay, hex_to_rgb
from omni_emotion.ui.render import (
    MAIN_COLOUR,
    chips_html,
    clues_markdown,
    expression_figure,
    face_sheet,
    face_thumbnails,
)


def test_chips_are_coloured_by_family_and_carry_escaped_evidence():
    html = chips_html(["happy", "<b>odd</b>"], {"happy": ["smiling (AU12)", "laughs at 2.1 s"]})
    assert FAMILIES["joy"].colour in html and OTHER_COLOUR in html
    assert "<b>odd</b>" not in html and "&lt;b&gt;odd&lt;/b&gt;" in html
    assert "smiling (AU12)" in html and html.index("happy") < html.index("odd")
    assert "No labels" in chips_html([], empty="No labels")


def test_colours_of_labels_and_expressions():
    assert label_colour("Angry") == FAMILIES["anger"].colour
    assert label_colour("zzzz") == OTHER_COLOUR
    assert expression_colour("sad") == FAMILIES["sadness"].colour
    assert expression_colour("") == OTHER_COLOUR


def test_clues_show_absent_modalities():
    md = clues_markdown(
        Analysis(labels=[], explanation="", clues=Clues(visual="smiles", acoustic="", textual=""))
    )
    assert "**Face:** smiles" in md and md.count("absent from this clip") == 2


def test_expression_figure_and_thumbnails():
    assert expression_figure(np.zeros(0), np.zeros((0, 7)), ["a"] * 7) is None
    fig = expression_figure(np.arange(5.0), np.full((5, 2), 0.5), ["happy", "sad"])
    assert len(fig.axes[0].lines) == 2
    crops = np.zeros((3, 224, 224, 3), np.uint8)
    faces = [
        FaceTrack(2, np.arange(3.0), np.zeros((3, 4), np.float32), np.ones(3), crops=crops),
        FaceTrack(5, np.arange(2.0), np.zeros((2, 4), np.float32), np.ones(2), crops=crops, main=True),
        FaceTrack(7, np.arange(2.0), np.zeros((2, 4), np.float32), np.ones(2)),  # no crops: left out
    ]
    thumbs = face_thumbnails(faces)
    assert [caption.split()[0] for _, caption in thumbs] == ["#5", "#2"]
    assert "(main)" in thumbs[0][1] and thumbs[0][0].shape == (224, 224, 3)
    sheet = face_sheet(faces, size=100)
    assert sheet.shape == (128, 2 * 108, 3)
    assert (
        tuple(sheet[1, 1]) == MAIN_COLOUR and tuple(sheet[1, 109]) != MAIN_COLOUR
    )  # main first, framed green
    assert face_sheet(faces[2:]) is None


def test_timeline_windows_become_plot_arrays_in_expression_order():
    timeline = [
        {"start_s": 0.0, "end_s": 1.0, "scores": {"happy": 0.8, "neutral": 0.2}, "top": "happy"},
        {"start_s": 1.0, "end_s": 2.0, "scores": {"sad": 1.0}, "top": "sad"},
    ]
    times, scores = timeline_arrays(timeline)
    assert times.tolist() == [0.5, 1.5] and scores.shape == (2, 7)
    assert scores[0, 3] == 0.8 and scores[0, 6] == 0.2 and scores[1, 4] == 1.0
    assert timeline_arrays(None)[1].shape == (0, 7)


def test_overlay_draws_box_in_expression_colour_without_touching_input():
    frame = np.zeros((240, 320, 3), np.uint8)
    face = LiveFace(3, (100.0, 80.0, 200.0, 180.0), 0.9, "happy", (0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.1))
    out = draw_overlay(frame, [face], labels=["happy", "relaxed"], status="10 fps")
    assert not frame.any()
    assert tuple(out[180, 150]) == hex_to_rgb(FAMILIES["joy"].colour)  # bottom edge of the box
    assert out[225:, :60].any()  # label chips along the bottom edge


def test_resolve_allowed_refuses_paths_outside_the_data_dirs(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "gt.csv").write_text("name,openset\n")
    secret = tmp_path / "secret.csv"
    secret.write_text("x")
    os.symlink(secret, data / "link.csv")
    dirs = UIConfig(data_dirs=(data,)).data_dirs
    assert resolve_allowed("gt.csv", dirs) == data / "gt.csv"
    assert resolve_allowed(str(data / "sub"), dirs, want_dir=True) == data / "sub"
    for bad in (str(secret), "../secret.csv", "link.csv", "missing.csv", ""):
        with pytest.raises(EvaluationDataError):
            resolve_allowed(bad, dirs)
    with pytest.raises(EvaluationDataError, match="--data-dir"):
        resolve_allowed("gt.csv", ())
    assert list_allowed_files(dirs, (".csv",)) == [str(data / "gt.csv"), str(data / "link.csv")]


def test_ui_config_validates():
    with pytest.raises(ConfigError, match="does not exist"):
        UIConfig(data_dirs=("/nonexistent/dir",))
    with pytest.raises(ConfigError, match="stream_every_s"):
        UIConfig(stream_every_s=5)


def test_status_says_first_whether_the_engine_in_use_is_ready():
    from omni_emotion.ui.status_tab import readiness

    rows = [
        {"model": "fer", "engine": "clues", "present": True},
        {"model": "yunet", "engine": "perception", "present": True},
        {"model": "llm", "engine": "omni", "present": False},
        {"model": "buffalo_l", "engine": "perception", "present": False},
    ]
    detectors = [
        {"name": "yunet", "summary": "boxes"},
        {"name": "insightface", "summary": "the buffalo_l pack"},
    ]
    report = {"engine": "clues", "weights": rows, "face_backend": "yunet", "face_detectors": detectors}
    text = readiness(report)
    assert text.startswith("**Ready:** the `clues` engine in use has all 2 model files it needs.")
    assert "Optional: 1 for the `omni` engine (0 present; " in text
    assert "1 for another face detector (buffalo_l; 0 present)" in text
    rows[1]["present"] = False
    assert readiness(report).startswith(
        "**Not ready:** the `clues` engine lacks 1 of the 2 model files it needs (yunet)"
    )


def test_the_live_tab_promises_the_rates_it_is_configured_for():
    from omni_emotion.ui.config import UIConfig
    from omni_emotion.ui.live_tab import live_intro

    text = live_intro(0.04, 1.0)
    assert "every 40 ms" in text and "at most 25 frames/s" in text and "about every 1 s" in text
    default = UIConfig()
    assert f"at most {1 / default.stream_every_s:.0f} frames/s" in live_intro(default.stream_every_s, 1.0)
    assert "13 frames/s" not in live_intro(default.stream_every_s, 1.0)
