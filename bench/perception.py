"""Perception speed and face recall: face detection + tracking frames/s at 640x360, face recall on the shared
clips (and harder versions of them: small, rotated, dark), and speech timings (VAD ms and ASR s per 4 s of
speech) when omni_emotion.speech and its models are installed. Prints figures; not a test.

    .venv/bin/python bench/perception.py [--backend auto|NAME (faces/registry.py)] [--fps 10] [--no-speech]

Goals (issue 4, 2 CPU cores): faces >= 15 frames/s, ASR <= 1.5 s and VAD <= 50 ms per 4 s of speech.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from common import SHARED_MEDIA, median_time

from omni_emotion.faces import FaceConfig, FaceTracker, load_face_analyzer
from omni_emotion.faces.detectors import YuFaceDetector
from omni_emotion.faces.registry import DETECTORS
from omni_emotion.live import LiveConfig, LiveModels, LiveSession
from omni_emotion.media import iter_frames, load_audio, load_clip

SPEECH_TEXT = "The weather was lovely today, so we walked along the river and talked for hours."


def face_speed(analyzer, frames: list[tuple[float, np.ndarray]], path: Path, fps: float, repeat: int) -> None:
    n = len(frames)
    h, w = frames[0][1].shape[:2]
    print(f"faces [{analyzer.backend}] on {path.name}: {n} frames at {w}x{h}, {os.cpu_count()} CPU cores")
    t_det = median_time(repeat, lambda: [analyzer.detector.detect(f) for _, f in frames])

    def live_path():
        tracker = FaceTracker(analyzer.config.tracker)
        for t, f in frames:
            tracker.update(t, analyzer.detect(f))

    t_live = median_time(repeat, live_path)
    t_track = median_time(repeat, lambda: analyzer.track(iter(frames)))
    t_stream = median_time(repeat, lambda: analyzer.track(iter_frames(path, fps=fps, max_side=640)))
    print(f"  detector only                        {n / t_det:7.1f} frames/s")
    print(f"  live fast path (detect + track ids)  {n / t_live:7.1f} frames/s  (goal >= 15)")
    print(f"  track() with aligned 224x224 crops   {n / t_track:7.1f} frames/s")
    print(f"  track() streaming, decoding included {n / t_stream:7.1f} frames/s")
    if isinstance(analyzer.detector, YuFaceDetector):
        two = YuFaceDetector(threads=2)
        t_two = median_time(repeat, lambda: [two.detect(f) for _, f in frames])
        print(
            f"  detector only, 2 OpenMP threads      {n / t_two:7.1f} frames/s  (unstable when other threads run)"
        )


def _shrink(frame: np.ndarray, k: int) -> np.ndarray:
    h, w = frame.shape[:2]
    canvas = np.full_like(frame, 40)
    small = cv2.resize(frame, (w // k, h // k), interpolation=cv2.INTER_AREA)
    canvas[h // 3 : h // 3 + small.shape[0], w // 3 : w // 3 + small.shape[1]] = small
    return canvas


def _rotate(frame: np.ndarray, degrees: float) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.warpAffine(frame, cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0), (w, h))


def face_recall(analyzer, media: Path) -> None:
    """Share of frames with at least one face found, on clips where every frame shows a face."""

    def recall(frames) -> str:
        hits = [len(analyzer.detect(f)) >= 1 for f in frames]
        return f"{np.mean(hits):.2f} of {len(hits)}   live path: {np.mean(live_shown(frames)):.2f}"

    def live_shown(frames) -> list[bool]:
        """Per frame, whether the live fast path shows a face (detecting every few frames, as at 25 fps)."""
        clock = [0.0]
        models = LiveModels(
            detector=analyzer,
            new_tracker=analyzer.new_tracker,
            expressions=None,
            analyze_clip=lambda *a, **k: None,
        )
        session = LiveSession(models, LiveConfig(), clock=lambda: clock[0], background=False)
        shown = []
        for f in frames:
            shown.append(len(session.process_frame(f).faces) >= 1)
            clock[0] += 0.04
        return shown

    wolf = [f for _, f in iter_frames(media / "WolfgangLanger_Pexels.mp4", fps=5)]
    single = [f for _, f in iter_frames(media / "single_face.mp4", fps=5)]
    none = [f for _, f in iter_frames(media / "no_face.mp4", fps=5)]
    print(
        "face recall (frames with a face found; every frame shows one face); live path: frames with a face"
        " shown by the live fast path (detector every few frames on a small copy, optical flow between)"
    )
    print(f"  WolfgangLanger_Pexels.mp4           {recall(wolf)}")
    print(f"  single_face.mp4                     {recall(single)}")
    print(f"  Wolfgang shrunk 1/3 (~70 px faces)  {recall([_shrink(f, 3) for f in wolf[::2]])}")
    print(f"  Wolfgang shrunk 1/5 (~40 px faces)  {recall([_shrink(f, 5) for f in wolf[::2]])}")
    print(f"  Wolfgang rotated 30 degrees         {recall([_rotate(f, 30) for f in wolf[::2]])}")
    print(f"  Wolfgang rotated 45 degrees         {recall([_rotate(f, 45) for f in wolf[::2]])}")
    print(f"  Wolfgang at 30% brightness          {recall([(f * 0.3).astype(np.uint8) for f in wolf[::2]])}")
    false = sum(len(analyzer.detect(f)) for f in none)
    false_live = int(np.sum(live_shown(none)))
    print(
        f"  no_face.mp4 false detections        {false} in {len(none)} frames   "
        f"live path: faces on {false_live}"
    )
    group = load_clip(media / "multi_face.jpg", num_frames=1).frames[0]
    for width in (1000, 640, 320):
        img = cv2.resize(
            group, (width, round(group.shape[0] * width / group.shape[1])), interpolation=cv2.INTER_AREA
        )
        models = LiveModels(
            detector=analyzer,
            new_tracker=analyzer.new_tracker,
            expressions=None,
            analyze_clip=lambda *a, **k: None,
        )
        session = LiveSession(models, LiveConfig(), background=False)
        live = max(len(session.process_frame(img).faces) for _ in range(10))
        print(
            f"  multi_face.jpg at {width:>4} px wide      {len(analyzer.detect(img))} of 5 faces   "
            f"live path: {live}"
        )


def _speech_audio(seconds: float = 4.0) -> np.ndarray | None:
    """~4 s of synthetic English speech from espeak-ng (16 kHz float32), or None without espeak-ng."""
    if shutil.which("espeak-ng") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-s", "165", "-w", str(wav), SPEECH_TEXT], check=True, capture_output=True
        )
        audio = load_audio(wav)
    return audio[: int(seconds * 16_000)]


def speech_speed(repeat: int) -> None:
    try:
        from omni_emotion.speech import load_speech_analyzer
    except ImportError as err:
        print(f"speech: omni_emotion.speech is not importable ({err})")
        return
    audio = _speech_audio()
    if audio is None:
        print("speech: espeak-ng is not installed (apt-get install espeak-ng); no speech to time")
        return
    start = time.perf_counter()
    speech = load_speech_analyzer()
    load_s = time.perf_counter() - start
    regions = speech.vad(audio)
    t_vad = median_time(repeat, lambda: speech.vad(audio))
    speech.transcribe(audio, regions)  # warm-up: first call allocates
    t_asr = median_time(repeat, lambda: speech.transcribe(audio, regions))
    t_en = median_time(repeat, lambda: speech.transcribe(audio, regions, language="en"))
    text = speech.transcribe(audio, regions, language="en").text
    print(
        f"speech on {len(audio) / 16_000:.1f} s of espeak-ng English ({len(regions)} VAD regions), load {load_s:.1f} s:"
    )
    print(f"  VAD                                  {1000 * t_vad:7.1f} ms  (goal <= 50)")
    print(f"  ASR, language detected               {t_asr:7.2f} s   (goal <= 1.5)")
    print(f"  ASR, language given (en)             {t_en:7.2f} s   -> {text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="auto", choices=DETECTORS.choices())
    parser.add_argument("--fps", type=float, default=10.0, help="face tracking rate in frames/s (default 10)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--no-speech", action="store_true")
    args = parser.parse_args()
    clip_path = args.media / "WolfgangLanger_Pexels.mp4"
    if not clip_path.is_file():
        raise SystemExit(f"{clip_path} is absent: pass --media with the shared test clips")
    analyzer = load_face_analyzer(args.backend, config=FaceConfig())
    frames = list(iter_frames(clip_path, fps=args.fps, max_side=640))
    face_speed(analyzer, frames, clip_path, args.fps, args.repeat)
    face_recall(analyzer, args.media)
    if not args.no_speech:
        speech_speed(args.repeat)


if __name__ == "__main__":
    main()
