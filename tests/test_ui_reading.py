"""The Analyze tab's reading aids: the explanation first and once, the figures in a collapsed detail with the
terms they use explained, an empty panel that says why, the result downloads, and the evidence in the JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from omni_emotion.live import EXPRESSIONS
from omni_emotion.types import Analysis, Clues, FaceTrack
from omni_emotion.ui.downloads import expression_rows, write_downloads
from omni_emotion.ui.reading import GLOSSARY, glossary_for, plain, sentences, without_repeats
from omni_emotion.ui.render import clues_markdown, explanation_markdown, figures_markdown

VISUAL = (
    "Over the clip the person's facial expression changes: at the beginning it reads as neutral "
    "(neutral 0.71); by the end it reads as happy (happy 0.95)."
)
ACOUSTIC = "The voice is tense and bright (alpha ratio -8.1 dB), with a wide pitch range (9.2 semitones)."
LEAD = (
    "Taken together, the person most likely feels happy (face reads happy (mean 0.74, 1.00 at the middle))."
)


def _analysis(**kw) -> Analysis:
    base = dict(
        labels=["happy"],
        explanation=f"{VISUAL} {ACOUSTIC} {LEAD}",
        clues=Clues(visual=VISUAL, acoustic=ACOUSTIC, textual=""),
        evidence={"happy": ["face reads happy (0.74)", "wording positive (VADER +0.45)"]},
    )
    base.update(kw)
    return Analysis(**base)


def test_the_explanation_leads_and_does_not_repeat_the_clues_shown_below():
    analysis = _analysis()
    lead = explanation_markdown(analysis)
    assert lead == "Taken together, the person most likely feels happy (face reads happy)."
    clues = clues_markdown(analysis)
    assert "**Face:**" in clues and "**Voice:**" in clues and "absent from this clip" in clues  # words absent
    for sentence in sentences(lead):
        assert sentence not in clues  # said once


def test_an_explanation_made_only_of_clues_is_still_shown():
    analysis = _analysis(explanation=VISUAL)
    assert explanation_markdown(analysis) == plain(VISUAL)


def test_figures_move_to_the_detail_and_its_terms_are_explained():
    analysis = _analysis()
    assert "0.71" not in clues_markdown(analysis) and "semitones" not in clues_markdown(analysis)
    detail = figures_markdown(analysis)
    assert "(neutral 0.71)" in detail and "(alpha ratio -8.1 dB)" in detail  # as the engine wrote them
    for term in ("semitones", "alpha ratio", "VADER", "face scores"):
        assert f"**{term}**: {GLOSSARY[term]}" in detail
    assert "HNR" not in detail  # only the terms used


def test_glossary_matches_whole_terms():
    assert glossary_for(["the compound score"]) == [("VADER", GLOSSARY["VADER"])]
    assert glossary_for(["a hnrx of 3"]) == []
    assert [t for t, _ in glossary_for(["HNR 12 dB and 3 syllables/s"])] == ["HNR", "syllables/s"]


def test_plain_keeps_parentheses_without_figures():
    assert (
        plain("Sounds happy (the face was turned away), loud (-12 dBFS).")
        == "Sounds happy (the face was turned away), loud."
    )


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_plain_never_adds_text(text):
    out = plain(text)
    assert len(out) <= len(text)
    assert without_repeats(text, []).strip() == " ".join(sentences(text)) or not text.strip()


def test_evidence_travels_in_the_json():
    data = json.loads(_analysis().to_json())
    assert data["evidence"]["happy"] == ["face reads happy (0.74)", "wording positive (VADER +0.45)"]
    assert Analysis.from_dict(data).evidence == _analysis().evidence


def test_downloads_hold_the_result_and_one_row_per_face_per_frame(tmp_path):
    crops = np.zeros((3, 8, 8, 3), np.uint8)
    faces = [
        FaceTrack(4, np.array([0.0, 0.5, 1.0]), np.zeros((3, 4), np.float32), np.ones(3), crops=crops),
        FaceTrack(
            2, np.array([0.2, 0.7]), np.zeros((2, 4), np.float32), np.ones(2), crops=crops[:2], main=True
        ),
    ]
    probs = np.eye(len(EXPRESSIONS))[[3, 3, 4]]

    def predict(batch):
        return probs[: len(batch)]

    rows = expression_rows(faces, predict, EXPRESSIONS)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (2, 1, 0.2),
        (2, 1, 0.7),
        (4, 0, 0.0),
        (4, 0, 0.5),
        (4, 0, 1.0),
    ]
    json_path, csv_path = write_downloads(tmp_path, "omni-emotion-x", _analysis(), rows, EXPRESSIONS)
    assert json.loads(Path(json_path).read_text(encoding="utf-8"))["evidence"]["happy"]
    with open(csv_path, newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["track", "main", "time_s", *EXPRESSIONS] and len(table) == 6
    assert float(table[1][3 + EXPRESSIONS.index("happy")]) == 1.0


def test_an_analysis_without_a_face_says_so_in_every_face_panel():
    from omni_emotion.ui.analyze_tab import NO_FACE, AnalyzeView, render_view

    ctx = SimpleNamespace(pipeline=SimpleNamespace(predict_expressions=lambda crops: None))
    analysis = _analysis(clues=Clues(visual="", acoustic=ACOUSTIC), explanation=ACOUSTIC, faces=[])
    _, _, _, _, transcript, plot, faces_image, rows = render_view(ctx, AnalyzeView(analysis, None))
    assert transcript == "(no speech recognised)"
    assert NO_FACE in plot.texts[0].get_text()
    assert NO_FACE.lower() in faces_image["label"] and faces_image["value"].shape[2] == 3
    assert rows[0][-1] == NO_FACE


def test_the_player_shows_only_a_clip_that_decodes(tmp_path, make_av):
    from omni_emotion.ui.analyze_tab import preview

    good = make_av("ok.mp4")
    video, audio, image = preview(str(good))
    assert video["visible"] and video["value"] == str(good) and not audio["visible"] and not image["visible"]
    bad = tmp_path / "garbage.mov"
    bad.write_bytes(bytes(range(256)) * 16)
    assert not any(update["visible"] for update in preview(str(bad)))
