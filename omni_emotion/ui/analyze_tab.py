"""Analyze tab: one uploaded (or example) clip -> explanation first, then labels with their evidence, the
clues per modality in plain words (figures and terms in a collapsed detail), transcript, plot, faces, and the
result as JSON and CSV downloads.

Uploads are read only: the handler passes the uploaded file's path to the pipeline, which decodes it
without writing. ``/analyze`` (an API-only endpoint) returns ``Analysis.to_dict()`` for scripts and tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from omni_emotion.errors import MediaNotFoundError, OmniEmotionError
from omni_emotion.live import EXPRESSIONS
from omni_emotion.media import AUDIO_SUFFIXES, IMAGE_SUFFIXES, MEDIA_SUFFIXES, VIDEO_SUFFIXES, check_media
from omni_emotion.types import Analysis, Perception
from omni_emotion.ui.colours import expression_colour
from omni_emotion.ui.context import UIContext, user_errors
from omni_emotion.ui.downloads import expression_rows, write_downloads
from omni_emotion.ui.examples import example_poster
from omni_emotion.ui.render import (
    chips_html,
    clues_markdown,
    empty_card,
    explanation_markdown,
    expression_figure,
    face_sheet,
    faces_table,
    figures_markdown,
    message_figure,
)
from omni_emotion.ui.tempfiles import call_dir

__all__ = [
    "NO_FACE",
    "AnalyzeView",
    "build_analyze_tab",
    "engine_line",
    "preview",
    "render_view",
    "timeline_arrays",
]


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
        return expression_figure(
            times, probs, EXPRESSIONS, colours, title=f"Facial expression of {who} over time (1 s windows)"
        )
    if face is None or face.crops is None or not len(face.crops):
        return None
    times = face.crop_seconds
    probs = ctx.pipeline.predict_expressions(face.crops)
    return expression_figure(
        np.asarray(times), probs, EXPRESSIONS, colours, title=f"Facial expression of {who} over time"
    )


NO_FACE = "No face found in this clip"


def render_view(ctx: UIContext, view: AnalyzeView | None) -> tuple:
    """(explanation md, chips html, clues md, figures md, transcript, plot, thumbnails (an update with its
    label), faces rows) for the page. Every panel that would stay empty says why instead."""
    if view is None:
        return "", "", "", "", "", None, None, []
    analysis = view.analysis
    transcript = (
        analysis.transcript + (f"  [{analysis.language}]" if analysis.language else "")
        if analysis.transcript.strip()
        else "(no speech recognised)"
    )
    thumbs = face_sheet(view.perception.faces) if view.perception is not None else None
    plot = _expression_track(ctx, analysis, view.perception)
    faceless = not analysis.faces
    return (
        explanation_markdown(analysis),
        chips_html(analysis.labels, analysis.evidence, empty="No emotion labels."),
        clues_markdown(analysis),
        figures_markdown(analysis),
        transcript,
        plot if plot is not None else message_figure(f"{NO_FACE}: no expressions to plot."),
        gr.update(
            value=thumbs if thumbs is not None else empty_card(NO_FACE),
            label=f"Tracked people: {NO_FACE.lower()}"
            if faceless and thumbs is None
            else "Tracked people (main person in green)",
        ),
        faces_table(analysis.faces) or [["none", "", "", "", "", "", NO_FACE]],
    )


def _download_stem(path: str) -> str:
    """The result files' name: the clip's, kept to letters, digits, '-' and '_'."""
    stem = re.sub(r"[^\w-]+", "_", Path(path).stem, flags=re.ASCII).strip("_")
    return f"omni-emotion-{stem[:60] or 'clip'}"


def preview(path: str | None) -> tuple:
    """(video, audio, image) players for the chosen clip: the one that fits its kind is shown; none for a file
    that does not decode (Analyze then says why), so the page never holds a broken player."""
    if path:
        try:
            check_media(path)
        except OmniEmotionError:
            path = None
    suffix = Path(path).suffix.lower() if path else ""
    video = path if suffix in VIDEO_SUFFIXES else None
    audio = path if suffix in AUDIO_SUFFIXES else None
    image = path if suffix in IMAGE_SUFFIXES else None
    return tuple(gr.update(value=value, visible=value is not None) for value in (video, audio, image))


def engine_line(name: str) -> str:
    """One line on the engine in use, from its registry entry."""
    from omni_emotion.engines.registry import ENGINES

    try:
        summary = ENGINES.get(name).summary
    except Exception:  # a test double or an engine registered elsewhere: its name alone
        summary = ""
    return f"Engine **{name}**" + (f": {summary}." if summary else ".")


def build_analyze_tab(ctx: UIContext) -> None:
    examples = {p.name: p for p in ctx.config.examples}
    names = sorted(examples, key=lambda n: (not n.startswith("astronaut"), n))  # the face example first

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
    def run(upload: Any, example: str | None, progress=gr.Progress()) -> tuple[dict, AnalyzeView, list[str]]:
        path = choose(upload, example)
        analysis, perception = ctx.analyze_path(path, progress=lambda f, d: progress(f, desc=d))
        faces = perception.faces if perception is not None else []
        rows = expression_rows(faces, ctx.pipeline.predict_expressions, EXPRESSIONS)
        files = write_downloads(call_dir("analyze-"), _download_stem(path), analysis, rows, EXPRESSIONS)
        return analysis.to_dict(), AnalyzeView(analysis, perception), files

    @user_errors
    def analyze(clip: gr.FileData) -> dict:
        """Analyse one clip file (video, audio or image) and return the Analysis JSON (docs/architecture.md)."""
        path = _path_of(clip)
        if not path:
            raise MediaNotFoundError("No clip was sent.")
        return ctx.analyze_path(path)[0].to_dict()

    with gr.Tab("Analyze", id="analyze"):
        gr.Markdown(engine_line(ctx.pipeline.engine_name), elem_id="analyze-engine")
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(
                    label="Clip: video, audio or image",
                    type="filepath",
                    elem_id="analyze-upload",
                    file_types=list(MEDIA_SUFFIXES),
                )
                video = gr.Video(label="Playback", interactive=False, visible=False, elem_id="analyze-video")
                audio = gr.Audio(
                    label="Playback",
                    interactive=False,
                    visible=False,
                    type="filepath",
                    elem_id="analyze-audio",
                )
                image = gr.Image(
                    label="Picture",
                    interactive=False,
                    visible=False,
                    type="filepath",
                    elem_id="analyze-image",
                )
                gallery = gr.Gallery(
                    [(example_poster(examples[n]), n) for n in names],
                    label="...or an example",
                    columns=3,
                    height=200,
                    allow_preview=False,
                    visible=bool(examples),
                    elem_id="analyze-examples",
                )
                example = gr.Dropdown(
                    choices=names, value=None, label="Example clip", visible=bool(examples), interactive=True
                )
                button = gr.Button("Analyze", variant="primary", elem_id="analyze-button")
            with gr.Column(scale=2):
                explanation = gr.Markdown(
                    "_Upload a clip or choose an example, then press Analyze._", elem_id="analyze-explanation"
                )
                chips = gr.HTML(label="Emotion labels", elem_id="analyze-labels")
                with gr.Accordion("Clues per modality", open=True):
                    clues = gr.Markdown(elem_id="analyze-clues")
                with gr.Accordion("Figures and terms", open=False):
                    figures = gr.Markdown(elem_id="analyze-figures")
                transcript = gr.Textbox(label="Transcript", lines=2, interactive=False)
                downloads = gr.File(
                    label="Download: result (JSON) and per-frame expressions (CSV)",
                    file_count="multiple",
                    interactive=False,
                    elem_id="analyze-downloads",
                )
        with gr.Row():
            with gr.Column(scale=3):
                plot = gr.Plot(label="Expressions over time", elem_id="analyze-plot")
            with gr.Column(scale=2):
                faces_image = gr.Image(
                    label="Tracked people (main person in green)",
                    type="numpy",
                    interactive=False,
                    elem_id="analyze-faces",
                    height=240,
                )
        faces = gr.Dataframe(
            headers=["track", "main", "start s", "end s", "detections", "face px", "score"],
            label="Faces",
            interactive=False,
        )
        with gr.Accordion("Analysis JSON", open=False):
            raw = gr.JSON()
        view = gr.State(None)

        players = [video, audio, image]
        upload.upload(
            lambda f: (None, *preview(_path_of(f))),
            upload,
            [example, *players],
            api_visibility="private",
            queue=False,
        )
        upload.clear(lambda: preview(None), outputs=players, api_visibility="private", queue=False)
        example.input(
            lambda n: (None, *preview(str(examples[n]) if n in examples else None)),
            example,
            [upload, *players],
            api_visibility="private",
            queue=False,
        )

        def pick(evt: gr.SelectData) -> tuple:
            name = names[evt.index]
            return (name, None, *preview(str(examples[name])))

        gallery.select(pick, None, [example, upload, *players], api_visibility="private", queue=False)
        button.click(
            run,
            [upload, example],
            [raw, view, downloads],
            api_visibility="private",
            show_progress_on=[explanation],
        ).success(
            lambda v: render_view(ctx, v),
            view,
            [explanation, chips, clues, figures, transcript, plot, faces_image, faces],
            api_visibility="private",
        )
        gr.api(analyze, api_name="analyze")
