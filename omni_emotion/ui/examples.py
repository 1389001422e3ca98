"""Example clips the project makes itself for the Analyze tab.

Each is a sentence spoken by espeak-ng (Debian's speech synthesiser) over a plain title card, so a first-time
user can see the acoustic and textual clues at work without a clip of their own. There is no face in them:
the visual clue says so. Clips are written once into a cache folder and reused.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from omni_emotion.media import load_audio
from omni_emotion.types import SAMPLE_RATE

__all__ = ["SpokenExample", "EXAMPLES", "make_examples"]

log = logging.getLogger(__name__)

_CARD_FPS = 2  # the picture never changes; a low rate keeps the files small
_CARD_SIZE = (640, 360)  # width, height


@dataclass(frozen=True)
class SpokenExample:
    """name: file stem; voice: espeak-ng voice; words_per_min and pitch (0-99) shape the delivery."""

    name: str
    text: str
    voice: str = "en-us"
    words_per_min: int = 160
    pitch: int = 50


EXAMPLES = (
    SpokenExample("spoken_excited", "We did it! I can't believe we actually won. This is the best day ever!",
                  words_per_min=185, pitch=75),
    SpokenExample("spoken_frustrated", "Honestly, I am really frustrated. Nobody listened to me, and I am not "
                  "happy about it at all.", words_per_min=165, pitch=40),
    SpokenExample("spoken_weary", "I don't know. I just feel so tired and lonely these days.",
                  words_per_min=105, pitch=25),
)


def make_examples(folder: Path, examples: tuple[SpokenExample, ...] = EXAMPLES) -> tuple[Path, ...]:
    """Write the example clips (mp4: title card + speech) into ``folder`` once; returns the paths made or found.

    Without espeak-ng on the machine no clip can be made and none is offered (logged, not an error)."""
    espeak = shutil.which("espeak-ng")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for example in examples:
        path = folder / f"{example.name}.mp4"
        if not path.exists():
            if espeak is None:
                log.info("espeak-ng is not installed: no example clips are offered")
                continue
            _write_example(espeak, example, path)
        paths.append(path)
    return tuple(paths)


def _speak(espeak: str, example: SpokenExample) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            [espeak, "-v", example.voice, "-s", str(example.words_per_min), "-p", str(example.pitch),
             "-w", str(wav), example.text],
            check=True, capture_output=True, timeout=60,
        )
        return load_audio(wav)


def _card(text: str) -> np.ndarray:
    width, height = _CARD_SIZE
    card = np.full((height, width, 3), 40, np.uint8)
    cv2.putText(card, "omni-emotion example: a spoken sentence, no face", (24, 40), cv2.FONT_HERSHEY_SIMPLEX,
                0.6, (230, 230, 230), 1, cv2.LINE_AA)
    line, y = "", 110
    for word in text.split():  # wrap the sentence across lines
        if len(line) + len(word) > 44:
            cv2.putText(card, line, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (255, 210, 120), 2, cv2.LINE_AA)
            line, y = "", y + 36
        line = f"{line} {word}".strip()
    cv2.putText(card, line, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (255, 210, 120), 2, cv2.LINE_AA)
    return card


def _write_example(espeak: str, example: SpokenExample, path: Path) -> None:
    audio = _speak(espeak, example)
    card = _card(example.text)
    partial = path.with_suffix(".part.mp4")  # a crash never leaves a half-written example behind
    with av.open(str(partial), "w") as container:
        video = container.add_stream("libx264", rate=_CARD_FPS)
        video.width, video.height, video.pix_fmt = _CARD_SIZE[0], _CARD_SIZE[1], "yuv420p"
        sound = container.add_stream("aac", rate=SAMPLE_RATE)
        sound.layout = "mono"
        seconds = audio.size / SAMPLE_RATE
        for i in range(int(np.ceil(seconds * _CARD_FPS))):
            frame = av.VideoFrame.from_ndarray(card, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, _CARD_FPS)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for start in range(0, audio.size, 1024):
            chunk = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts, chunk.time_base = SAMPLE_RATE, start, Fraction(1, SAMPLE_RATE)
            for packet in sound.encode(chunk):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    partial.replace(path)
