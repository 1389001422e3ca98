"""Example clips the project makes itself for the Analyze tab.

Each is a sentence spoken by espeak-ng (Debian's speech synthesiser) over a picture, so a first-time user can
see the clues at work without a clip of their own. Most pictures are a plain title card (no face: the visual
clue says so); one is a real face: NASA's public-domain portrait of the astronaut Eileen Collins, as shipped
in scikit-image's sample data, slowly zoomed so the frames differ. Clips are written once into a cache
folder and reused; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
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

__all__ = ["EXAMPLES", "SpokenExample", "example_poster", "make_examples", "portrait"]

log = logging.getLogger(__name__)

_CARD_FPS = 2  # the picture never changes; a low rate keeps the files small
_CARD_SIZE = (640, 360)  # width, height
_FACE_FPS = 8  # the face example moves: enough frames for the tracker and the expression timeline
_FACE_SIZE = 384  # px, square


@dataclass(frozen=True)
class SpokenExample:
    """name: file stem; voice: espeak-ng voice; words_per_min and pitch (0-99) shape the delivery."""

    name: str
    text: str
    voice: str = "en-us"
    words_per_min: int = 160
    pitch: int = 50
    picture: str = ""  # "" = a title card; "portrait" = the public-domain astronaut photo (see portrait())


EXAMPLES = (
    SpokenExample(
        "astronaut_proud",
        "Flying the shuttle was the proudest moment of my life. I loved every minute of it!",
        voice="en-us+f3",
        words_per_min=160,
        pitch=60,
        picture="portrait",
    ),
    SpokenExample(
        "spoken_excited",
        "We did it! I can't believe we actually won. This is the best day ever!",
        words_per_min=185,
        pitch=75,
    ),
    SpokenExample(
        "spoken_frustrated",
        "Honestly, I am really frustrated. Nobody listened to me, and I am not happy about it at all.",
        words_per_min=165,
        pitch=40,
    ),
    SpokenExample(
        "spoken_weary",
        "I don't know. I just feel so tired and lonely these days.",
        words_per_min=105,
        pitch=25,
    ),
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
            if example.picture and portrait() is None:
                log.info("scikit-image's sample portrait is not installed: no %s example", example.name)
                continue
            _write_example(espeak, example, path)
        paths.append(path)
    return tuple(paths)


def _speak(espeak: str, example: SpokenExample) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            [
                espeak,
                "-v",
                example.voice,
                "-s",
                str(example.words_per_min),
                "-p",
                str(example.pitch),
                "-w",
                str(wav),
                example.text,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return load_audio(wav)


def _card(text: str) -> np.ndarray:
    width, height = _CARD_SIZE
    card = np.full((height, width, 3), 40, np.uint8)
    cv2.putText(
        card,
        "omni-emotion example: a spoken sentence, no face",
        (24, 40),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6,
        (230, 230, 230),
        1,
        cv2.LINE_AA,
    )
    line, y = "", 110
    for word in text.split():  # wrap the sentence across lines
        if len(line) + len(word) > 44:
            cv2.putText(card, line, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (255, 210, 120), 2, cv2.LINE_AA)
            line, y = "", y + 36
        line = f"{line} {word}".strip()
    cv2.putText(card, line, (24, y), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (255, 210, 120), 2, cv2.LINE_AA)
    return card


def portrait() -> np.ndarray | None:
    """NASA's portrait of Eileen Collins (public domain) from scikit-image's bundled sample data, (512, 512,
    3) uint8 RGB, read from the file (importing scikit-image takes seconds); None when it is not installed."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _zoom(photo: np.ndarray, progress: float) -> np.ndarray:
    """A square crop around the face, from the whole photo to 80 % of it as progress goes 0 -> 1."""
    side = photo.shape[0]
    crop = int(side * (1.0 - 0.2 * progress))
    top, left = int((side - crop) * 0.25), int((side - crop) * 0.45)  # the face is up and a little left
    return cv2.resize(
        photo[top : top + crop, left : left + crop], (_FACE_SIZE, _FACE_SIZE), interpolation=cv2.INTER_AREA
    )


def example_poster(path: Path, width: int = 240) -> np.ndarray:
    """A still for the examples gallery: the clip's frame at about 1 s, or a card with its name (audio)."""
    from omni_emotion.media import iter_frames

    try:
        frames = [f for t, f in iter_frames(path, fps=1, max_side=width) if t >= 0.9][:1]
    except Exception:  # a poster is decoration: an unreadable clip still gets a card and an Analyze error
        frames = []
    if frames:
        return frames[0]
    card = np.full((width * 9 // 16, width, 3), 40, np.uint8)
    cv2.putText(
        card,
        path.stem[:24],
        (8, card.shape[0] // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (230, 230, 230),
        1,
        cv2.LINE_AA,
    )
    return card


def _write_example(espeak: str, example: SpokenExample, path: Path) -> None:
    audio = _speak(espeak, example)
    photo = portrait() if example.picture else None
    fps, (width, height) = (
        (_FACE_FPS, (_FACE_SIZE, _FACE_SIZE)) if photo is not None else (_CARD_FPS, _CARD_SIZE)
    )
    card = _card(example.text) if photo is None else None
    partial = path.with_suffix(".part.mp4")  # a crash never leaves a half-written example behind
    with av.open(str(partial), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=SAMPLE_RATE)
        sound.layout = "mono"
        seconds = audio.size / SAMPLE_RATE
        count = int(np.ceil(seconds * fps))
        for i in range(count):
            picture = card if photo is None else _zoom(photo, i / max(1, count - 1))
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for start in range(0, audio.size, 1024):
            chunk = av.AudioFrame.from_ndarray(
                audio[None, start : start + 1024], format="fltp", layout="mono"
            )
            chunk.sample_rate, chunk.pts, chunk.time_base = SAMPLE_RATE, start, Fraction(1, SAMPLE_RATE)
            for packet in sound.encode(chunk):
                container.mux(packet)
        for packet in sound.encode():
            container.mux(packet)
    partial.replace(path)
