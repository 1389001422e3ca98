"""Live tab: webcam + microphone streamed from the browser.

Each webcam frame goes through the session's fast path and comes back annotated; the background analysis
(omni_emotion.live) refreshes labels, explanation and transcript, which ride along with the next frame or
audio chunk (sent only when they changed). Streaming events cannot be called by gradio_client, so each has
a non-streaming twin: ``/live_frame`` (one image), ``/live_audio`` (one audio chunk), ``/live_labels``
(run the slow path now and return the Analysis JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import gradio as gr
import numpy as np

from omni_emotion.errors import MediaError, UnsupportedMediaError, check_pixels
from omni_emotion.heap import trim_heap
from omni_emotion.image_header import HEADER_FORMATS, declared_image_size
from omni_emotion.label_steadiness import SteadyExpressions, SteadyLabels
from omni_emotion.live import LiveSession, LiveUpdate
from omni_emotion.ui.context import UIContext, user_error, user_errors
from omni_emotion.ui.draw import draw_overlay
from omni_emotion.ui.render import chips_html
from omni_emotion.ui.session_registry import SessionRegistry

__all__ = ["LiveView", "build_live_tab", "live_intro", "read_audio", "read_frame"]

_WAITING = "Waiting for the first analysis (about a second after the stream starts)."


@dataclass
class LiveView:
    """Per-browser-session state: the live session and what the page already shows."""

    session: LiveSession
    shown_seq: int = -1
    fps: float = 0.0
    last_t: float | None = None
    # what the page shows: the chips in the video and beside it both read labels.shown
    labels: SteadyLabels = field(default_factory=SteadyLabels)
    expressions: SteadyExpressions = field(default_factory=SteadyExpressions)

    def steady_labels(self, update: LiveUpdate | None) -> tuple[str, ...]:
        """The labels to show after ``update`` (the session's newest analysis)."""
        if update is not None and update.analysis is not None:
            return self.labels.offer(update.seq, update.analysis.labels, update.ready_at)
        return self.labels.shown

    def close(self) -> None:
        # called by Gradio's state cleanup on its event loop: do not wait for a running analysis
        self.session.close(wait=False)


def live_intro(stream_every_s: float, refresh_s: float) -> str:
    """The Live tab's first line: the rates it promises follow the settings (the status line measures)."""
    return (
        f"Press the record buttons of the webcam and the microphone. The browser sends a frame every "
        f"{stream_every_s * 1e3:.0f} ms (at most {1 / stream_every_s:.0f} frames/s; the status line under "
        f"the video shows the rate that comes back); boxes, track ids and expressions update on every "
        f"frame, labels about every {refresh_s:g} s."
    )


def _texts(update: LiveUpdate | None, shown: tuple[str, ...]) -> tuple[str, str, str]:
    if update is None:
        return chips_html([], empty=_WAITING), "", ""
    if update.analysis is None:
        return chips_html([], empty=f"Analysis failed: {update.error}"), "", ""
    a = update.analysis
    return chips_html(shown, a.evidence, empty="No emotion labels yet."), a.explanation, a.transcript


def read_frame(path: str, max_pixels: int) -> np.ndarray:
    """A frame sent as an image file (the /live_frame twin) as RGB uint8 (H, W, 3). OpenCV learns a size only
    by decoding, so only formats whose header declares the size are accepted, and that size is checked
    against ``max_pixels`` before a pixel is decoded. After a refusal the freed heap goes back to the
    system."""
    name = Path(path).name
    try:
        size = declared_image_size(path)
        if size is None:
            raise UnsupportedMediaError(
                f"{name} is not an image whose size can be read before decoding;"
                f" send {', '.join(HEADER_FORMATS[:-1])} or {HEADER_FORMATS[-1]}."
            )
        check_pixels(name, *size, max_pixels)
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise UnsupportedMediaError(f"{name} is not a readable image.")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    except (OSError, MediaError):
        trim_heap()
        raise


def read_audio(path: str) -> tuple[int, np.ndarray]:
    """An audio chunk sent as a file (the /live_audio twin) as (16000, mono float32), decoded by PyAV
    whatever its format: Gradio's own reader needs ffprobe for anything but WAV."""
    from omni_emotion.media import load_audio
    from omni_emotion.types import SAMPLE_RATE

    try:
        return SAMPLE_RATE, load_audio(path)
    except MediaError:
        trim_heap()
        raise


def build_live_tab(ctx: UIContext) -> None:
    cfg = ctx.config

    # a session's first frame and first audio chunk can both arrive before either has stored the view
    views: SessionRegistry[LiveView] = SessionRegistry(
        lambda: LiveView(LiveSession(ctx.live_models, cfg.live))
    )

    def ensure(view: LiveView | None, request: gr.Request | None) -> LiveView:
        return view if isinstance(view, LiveView) else views.get(getattr(request, "session_hash", None))

    def close(view: LiveView | None) -> None:
        if isinstance(view, LiveView):
            views.discard(view)
            view.close()

    def refreshed(view: LiveView, update: LiveUpdate | None, force: bool = False) -> tuple:
        seq = update.seq if update is not None else 0
        shown = view.steady_labels(update)
        if seq == view.shown_seq and not force:
            return gr.skip(), gr.skip(), gr.skip()
        view.shown_seq = seq
        return _texts(update, shown)

    def status(view: LiveView) -> str:
        update = view.session.latest
        lag = f" · labels {update.lag_s:.1f} s behind" if update is not None else ""
        return (
            f"{view.fps:.1f} fps · window {cfg.live.window_s:.0f} s{lag} · engine {ctx.pipeline.engine_name}"
        )

    @user_errors  # a frame above the pixel limit is refused with its sentence
    def on_frame(frame: np.ndarray | None, view: LiveView | None, request: gr.Request):
        view = ensure(view, request)
        if frame is None:
            return (gr.skip(), *refreshed(view, view.session.latest), status(view), view)
        result = view.session.process_frame(frame)
        if view.last_t is not None and result.t > view.last_t:
            inst = 1.0 / (result.t - view.last_t)
            view.fps = inst if view.fps == 0 else 0.8 * view.fps + 0.2 * inst
        view.last_t = result.t
        update = view.session.latest  # read once: the chips in the frame and beside it show the same answer
        texts = refreshed(view, update)
        annotated = draw_overlay(frame, view.expressions.smooth(result.t, result.faces), view.labels.shown)
        return (annotated, *texts, status(view), view)

    @user_errors
    def on_frame_file(path: str | None, view: LiveView | None, request: gr.Request):
        """The twin's input is a file path, so an oversized picture is refused before it is decoded."""
        return on_frame(read_frame(path, cfg.live.max_pixels) if path else None, view, request)

    def on_audio(chunk: tuple[int, np.ndarray] | None, view: LiveView | None, request: gr.Request):
        view = ensure(view, request)
        if chunk is not None:
            rate, samples = chunk
            view.session.add_audio(samples, int(rate))
        return (*refreshed(view, view.session.latest), status(view), view)

    @user_errors
    def on_audio_file(path: str | None, view: LiveView | None, request: gr.Request):
        """The twin's input is a file path: any format, decoded here (the browser's stream is PCM already)."""
        return on_audio(read_audio(path) if path else None, view, request)

    def analyze_now(view: LiveView | None, request: gr.Request) -> tuple[dict, LiveView]:
        """Non-streaming twin of the background analysis: analyse the buffered window now."""
        view = ensure(view, request)
        update = view.session.analyze_now()
        if update is None:
            raise user_error(str(MediaError("Nothing buffered yet: send frames or audio first.")))
        if update.analysis is None:
            raise user_error(update.error)
        return update.analysis.to_dict(), view

    with gr.Tab("Live", id="live"):
        gr.Markdown(live_intro(cfg.stream_every_s, cfg.live.refresh_s))
        with gr.Row():
            with gr.Column(scale=1):
                cam = gr.Image(
                    sources=["webcam"],
                    streaming=True,
                    type="numpy",
                    label="Webcam",
                    elem_id="live-webcam",
                    webcam_options=gr.WebcamOptions(
                        mirror=False, constraints={"video": {"width": 640, "height": 480}}
                    ),
                )
                mic = gr.Audio(
                    sources=["microphone"],
                    streaming=True,
                    type="numpy",
                    label="Microphone",
                    elem_id="live-mic",
                )
            with gr.Column(scale=1):
                annotated = gr.Image(
                    label="Faces and expressions",
                    type="numpy",
                    interactive=False,
                    elem_id="live-annotated",
                    format="jpeg",
                )
                labels = gr.HTML(chips_html([], empty=_WAITING), elem_id="live-labels")
                explanation = gr.Markdown(elem_id="live-explanation")
                transcript = gr.Textbox(label="Transcript (last seconds)", interactive=False, lines=2)
                stat = gr.Markdown(elem_id="live-status")
        with gr.Row(visible=False):  # the non-streaming twins, for scripts and tests
            frame_twin = gr.Button("frame")
            # a file, not an image: Gradio would decode an image (or refuse a huge one in its own words)
            frame_file = gr.File(type="filepath", label="frame file")
            audio_twin = gr.Button("audio")
            audio_file = gr.File(type="filepath", label="audio file")
            labels_twin = gr.Button("labels")
            labels_json = gr.JSON()
        view = gr.State(None, time_to_live=max(60, int(cfg.live.idle_stop_s * 10)), delete_callback=close)

        frame_outputs = [annotated, labels, explanation, transcript, stat, view]
        audio_outputs = [labels, explanation, transcript, stat, view]
        cam.stream(
            on_frame,
            [cam, view],
            frame_outputs,
            stream_every=cfg.stream_every_s,
            time_limit=cfg.live_time_limit_s,
            concurrency_limit=cfg.live_sessions,
            concurrency_id="live-frames",
            api_visibility="private",
            show_progress="hidden",
        )
        mic.stream(
            on_audio,
            [mic, view],
            audio_outputs,
            stream_every=0.5,
            time_limit=cfg.live_time_limit_s,
            concurrency_limit=cfg.live_sessions,
            concurrency_id="live-audio",
            api_visibility="private",
            show_progress="hidden",
        )
        frame_twin.click(
            on_frame_file,
            [frame_file, view],
            frame_outputs,
            api_name="live_frame",
            concurrency_id="live-frames",
            concurrency_limit=cfg.live_sessions,
        )
        audio_twin.click(
            on_audio_file,
            [audio_file, view],
            audio_outputs,
            api_name="live_audio",
            concurrency_id="live-audio",
            concurrency_limit=cfg.live_sessions,
        )
        labels_twin.click(analyze_now, [view], [labels_json, view], api_name="live_labels")
