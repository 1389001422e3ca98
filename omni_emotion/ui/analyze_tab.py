"""Analyze tab: one uploaded (or example) clip -> labels, explanation, clues, transcript, plot, faces.

Uploads are read only: the handler passes the uploaded file's path to the pipeline, which decodes it
without writing. ``/analyze`` (an API-only endpoint) returns ``Analysis.to_dict()`` for scripts and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import numpy as np

from omni_emotion.errors import MediaNotFoundError
from omni_emotion.live import EXPRESSIONS
from omni_emotion.media import MEDIA_SUFFIXES
from omni_emotion.types import Analysis, Perception
from omni_emotion.ui.colours import expression_colour
from omni_emotion.ui.context import UIContext, user_errors
from omni_emotion.ui.render import (
    chips_html,
    clues_markdown,
    explanation_markdown,
    expression_figure,
    face_sheet,
    faces_table,
)

__all__ = ["AnalyzeView", "build_analyze_tab", "render_view", "timeline_arrays"]


@dataclass
class AnalyzeView:
    """One finished analysis and the perception behind it (None when the pipeline does not expose it)."""

    analysis: Analysis
    perception: Perception | None = None


def _path_of(upload: Any) -> str | None:
    """gr.File gives a path string; the API gives a FileData dict."""
    if upload is None:
        return None
    if isinstance(upload, dict):
        return upload.get("path")
    return str(getattr(upload, "path", upload))


def timeline_arrays(timeline: list[dict] | None) -> tuple[np.ndarray, np.ndarray]:
    """``Analysis.timeline`` windows -> (times (T,) window centres in s, scores (T, 7) in EXPRESSIONS order)."""
    rows = [w for w in timeline or [] if isinstance(w.get("scores"), dict)]
    times = np.array([(float(w["start_s"]) + float(w["end_s"])) / 2.0 for w in rows], dtype=np.float64)
    scores = np.array([[float(w["scores"].get(e, 0.0)) for e in EXPRESSIONS] for w in rows], dtype=np.float64)
    return times, scores.reshape(len(rows), len(EXPRESSIONS))


def _expression_track(ctx: UIContext, analysis: Analysis, perception: Perception | None):
    """Expression probabilities of the main person over time: the engine's own timeline when it gives one
    (the clue engine does: per-second means), else the expression model on the main track's aligned crops."""
    colours = [expression_colour(e) for e in EXPRESSIONS]
    face = perception.main_face if perception is not None else None
    who = f"person #{face.track_id}" if face is not None else "the main person"
    times, probs = timeline_arrays(analysis.timeline)
    if times.size:
        return expression_figure(times, probs, EXPRESSIONS, colours,
                                 title=f"Facial expression of {who} over time (1 s windows)")
    if face is None or face.crops is None or not len(face.crops):
        return None
    times = face.crop_seconds
    probs = ctx.pipeline.predict_expressions(face.crops)
    return expression_figure(np.asarray(times), probs, EXPRESSIONS, colours,
                             title=f"Facial expression of {who} over time")


def render_view(ctx: UIContext, view: AnalyzeView | None) -> tuple:
    """(chips html, explanation md, clues md, transcript, plot, thumbnails, faces rows) for the page."""
    if view is None:
        return "", "", "", "", None, None, []
    analysis = view.analysis
    transcript = (analysis.transcript + (f"  [{analysis.language}]" if analysis.language else "")
                  if analysis.transcript.strip() else "(no speech recognised)")
    thumbs = face_sheet(view.perception.faces) if view.perception is not None else None
    return (
        chips_html(analysis.labels, analysis.evidence, empty="No emotion labels."),
        explanation_markdown(analysis),
        clues_markdown(analysis),
        transcript,
        _expression_track(ctx, analysis, view.perception),
        thumbs,
        faces_table(analysis.faces),
    )


def build_analyze_tab(ctx: UIContext) -> None:
    examples = {p.name: p for p in ctx.config.examples}

    def choose(upload: Any, example: str | None) -> str:
        path = _path_of(upload)
        if path:
            return path
        if example:
            if example not in examples:
                raise MediaNotFoundError(f"{example} is not one of the example clips.")
            return str(examples[example])
        raise MediaNotFoundError("Upload a clip or choose an example first.")

    @user_errors
    def run(
        upload: Any, example: str | None, progress=gr.Progress()  # noqa: B008 - how Gradio injects progress
    ) -> tuple[dict, AnalyzeView]:
        path = choose(upload, example)
        analysis, perception = ctx.analyze_path(path, progress=lambda f, d: progress(f, desc=d))
        return analysis.to_dict(), AnalyzeView(analysis, perception)

    @user_errors
    def analyze(clip: gr.FileData) -> dict:
        """Analyse one clip file (video, audio or image) and return the Analysis JSON (docs/architecture.md)."""
        path = _path_of(clip)
        if not path:
            raise MediaNotFoundError("No clip was sent.")
        return ctx.analyze_path(path)[0].to_dict()

    with gr.Tab("Analyze", id="analyze"):
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(label="Clip: video, audio or image", type="filepath", elem_id="analyze-upload",
                                 file_types=list(MEDIA_SUFFIXES))
                example = gr.Dropdown(choices=sorted(examples), value=None, label="...or an example clip",
                                      visible=bool(examples), interactive=True)
                button = gr.Button("Analyze", variant="primary", elem_id="analyze-button")
            with gr.Column(scale=2):
                chips = gr.HTML(label="Emotion labels", elem_id="analyze-labels")
                explanation = gr.Markdown(elem_id="analyze-explanation")
                with gr.Accordion("Clues per modality", open=True):
                    clues = gr.Markdown(elem_id="analyze-clues")
                transcript = gr.Textbox(label="Transcript", lines=2, interactive=False)
        with gr.Row():
            with gr.Column(scale=3):
                plot = gr.Plot(label="Expressions over time", elem_id="analyze-plot")
            with gr.Column(scale=2):
                faces_image = gr.Image(label="Tracked people (main person in green)", type="numpy", interactive=False,
                                   elem_id="analyze-faces", height=240)
        faces = gr.Dataframe(headers=["track", "main", "start s", "end s", "detections", "face px", "score"],
                             label="Faces", interactive=False)
        with gr.Accordion("Analysis JSON", open=False):
            raw = gr.JSON()
        view = gr.State(None)

        upload.upload(lambda: None, outputs=example, api_visibility="private", queue=False)
        example.input(lambda: None, outputs=upload, api_visibility="private", queue=False)
        button.click(
            run, [upload, example], [raw, view], api_visibility="private", show_progress_on=[chips],
        ).success(
            lambda v: render_view(ctx, v), view, [chips, explanation, clues, transcript, plot, faces_image, faces],
            api_visibility="private",
        )
        gr.api(analyze, api_name="analyze")
