"""Perception: decode a clip, listen (VAD, ASR, prosody, voice) and find and follow faces -> ``Perception``.

Voice activity detection runs first (milliseconds) so the face tracker can use the speech regions to pick
the person who talks; then the rest of the listening (ASR, translation, voice quality) runs in a worker
thread while the faces are tracked, since both spend their time in native code that releases the GIL.
Dense frames for tracking are streamed (``media.iter_frames``), so a long file never sits in memory; the
clip itself keeps only ``num_frames`` sampled frames (what the MLLM engine and the fallback crops use).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omni_emotion import media
from omni_emotion.types import Clip, FaceTrack, Perception, ProgressFn, Prosody, Transcript

if TYPE_CHECKING:  # the analyzers load native libraries: imported by whoever builds them
    from omni_emotion.faces import FaceAnalyzer
    from omni_emotion.speech import SpeechAnalyzer

__all__ = ["Perceiver", "ProbeRequest", "probe_file", "rescale_track"]


class Perceiver:
    """Owns no models itself: it drives a face analyzer and a speech analyzer (either may be None)."""

    def __init__(self, face_analyzer: FaceAnalyzer | None, speech_analyzer: SpeechAnalyzer | None) -> None:
        self.faces = face_analyzer
        self.speech = speech_analyzer

    def perceive_file(
        self,
        path: str | Path,
        fps: float = 5.0,
        num_frames: int = 8,
        progress: ProgressFn | None = None,
        config: media.MediaConfig = media.MediaConfig(),
    ) -> Perception:
        """Decode ``path`` (num_frames sampled frames + audio, limits from ``config``), analyse speech, track
        faces at ``fps`` frames/s. Face boxes and landmarks come back in source-frame pixels."""
        report = progress or (lambda fraction, message: None)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        report(0.0, "decoding")
        clip = media.load_clip(path, num_frames=num_frames, config=config)
        timings["decode"] = 1e3 * (time.perf_counter() - t0)
        frames: Iterable[tuple[float, np.ndarray]]
        if clip.is_image or len(clip.frames) <= 1:
            frames = zip(clip.timestamps.tolist(), clip.frames)
        else:
            frames = media.iter_frames(path, fps=fps, config=config)
        perception = self._perceive(clip, frames, timings, report)
        timings["perception"] = 1e3 * (time.perf_counter() - t0)
        return perception

    def perceive_clip(self, clip: Clip, progress: ProgressFn | None = None) -> Perception:
        """The same for an in-memory clip (a live buffer): its own frames are the tracking frames."""
        report = progress or (lambda fraction, message: None)
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        perception = self._perceive(clip, zip(clip.timestamps.tolist(), clip.frames), timings, report)
        timings["perception"] = 1e3 * (time.perf_counter() - t0)
        return perception

    def _perceive(
        self,
        clip: Clip,
        frames: Iterable[tuple[float, np.ndarray]],
        timings: dict[str, float],
        report: ProgressFn,
    ) -> Perception:
        """VAD, then listening in a worker thread while the faces are tracked here."""
        listening = self.speech is not None and clip.has_audio
        if listening:
            report(
                0.1, "listening"
            )  # from this thread: progress callbacks (tqdm, gr.Progress) stay on one thread
        regions = self.speech.vad(clip.audio, clip.sample_rate) if listening else []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="omni-emotion-listen") as pool:
            heard = pool.submit(self._listen, clip, regions, timings)
            faces = self._track(clip, frames, regions, timings, report)
            transcript, prosody = heard.result()
        return Perception(clip, faces, transcript, prosody, timings)

    def _listen(
        self, clip: Clip, regions: list[tuple[float, float]], timings: dict[str, float]
    ) -> tuple[Transcript, Prosody]:
        if self.speech is None or not clip.has_audio:
            return Transcript(), Prosody(description="no audio" if not clip.has_audio else "")
        t0 = time.perf_counter()
        transcript, prosody = self.speech.analyze(clip.audio, clip.sample_rate, regions=regions)
        timings["speech"] = 1e3 * (time.perf_counter() - t0)
        return transcript, prosody

    def _track(
        self,
        clip: Clip,
        frames: Iterable[tuple[float, np.ndarray]],
        speech_regions: list[tuple[float, float]],
        timings: dict[str, float],
        report: ProgressFn,
    ) -> list[FaceTrack]:
        if self.faces is None or not clip.has_video:
            return []
        report(0.4, "finding faces")
        t0 = time.perf_counter()
        seen: list[tuple[int, int]] = []
        tracks = self.faces.track(
            _progress_frames(frames, clip.duration, report, seen), speech_regions=speech_regions or None
        )
        timings["faces"] = 1e3 * (time.perf_counter() - t0)
        if seen and clip.has_video:
            # Tracking frames may be downscaled (iter_frames' max_side); FaceTrack boxes are source pixels.
            scale = clip.frames.shape[2] / seen[0][0]
            if abs(scale - 1.0) > 1e-3:
                tracks = [rescale_track(t, scale) for t in tracks]
        return tracks


def rescale_track(track: FaceTrack, scale: float) -> FaceTrack:
    """The same track with boxes and landmarks multiplied by ``scale`` (crops are unchanged)."""
    return replace(
        track,
        boxes=track.boxes * np.float32(scale),
        landmarks=None if track.landmarks is None else track.landmarks * np.float32(scale),
    )


def _progress_frames(
    frames: Iterable[tuple[float, np.ndarray]],
    duration: float,
    report: ProgressFn,
    sizes: list[tuple[int, int]],
) -> Iterator[tuple[float, np.ndarray]]:
    """Pass frames through, reporting progress from 0.4 to 0.9 by timestamp; records the first (w, h)."""
    for t, frame in frames:
        if not sizes:
            sizes.append((frame.shape[1], frame.shape[0]))
        if duration > 0:
            report(0.4 + 0.5 * min(float(t) / duration, 1.0), "finding faces")
        yield t, frame


@dataclass(frozen=True)
class ProbeRequest:
    """What ``probe_file`` reports on ``path``: its decoded facts from ``frames`` sampled frames, plus its face
    tracks (``faces``, tracked at ``fps``) and its speech (``speech``: VAD, ASR, prosody)."""

    path: str
    frames: int = 8
    faces: bool = False
    speech: bool = False
    fps: float = 5.0
    config: media.MediaConfig = field(default_factory=media.MediaConfig)


def probe_file(request: ProbeRequest) -> dict[str, Any]:
    """The clip's facts (``Clip.facts``), plus faces and/or speech through the same Perceiver as ``analyze``:
    with both, the tracker gets the VAD speech regions, and boxes are in source pixels (tracking frames are
    downscaled)."""
    if not (request.faces or request.speech):
        return media.load_clip(request.path, num_frames=request.frames, config=request.config).facts()
    faces = speech = None
    if request.faces:
        from omni_emotion.faces import load_face_analyzer

        faces = load_face_analyzer()
    if request.speech:
        from omni_emotion.speech import load_speech_analyzer

        speech = load_speech_analyzer()
    perception = Perceiver(faces, speech).perceive_file(
        request.path, fps=request.fps, num_frames=request.frames, config=request.config
    )
    facts: dict[str, Any] = perception.clip.facts()
    if request.faces:
        facts["faces"] = [_face_facts(t) for t in perception.faces]
    if request.speech:
        prosody = perception.prosody
        facts["transcript"] = perception.transcript.text
        facts["language"] = perception.transcript.language
        facts["prosody"] = prosody.description
        facts["speech_regions"] = [[round(a, 2), round(b, 2)] for a, b in prosody.speech_regions]
    return facts


def _face_facts(track: FaceTrack) -> dict[str, Any]:
    """A track's summary plus its median box [x1, y1, x2, y2] in source-frame pixels."""
    box = np.median(track.boxes, axis=0) if len(track.boxes) else np.zeros(4)
    return track.summary() | {"median_box_px": [round(float(v), 1) for v in box]}
