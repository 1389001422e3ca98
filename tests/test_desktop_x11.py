"""`omni-emotion live` as a user runs it: a real X server (Xvfb), a real PulseAudio server whose microphone
plays a spoken WAV, the real clues engine, and the window read back from the X screen.

Needs Debian's xvfb, x11-apps (xwd), xdotool, pulseaudio(-utils), libasound2-plugins and espeak-ng, which
scripts/install.sh installs when the tests run; without them the test skips and says which are missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from omni_emotion.desktop.overlay import PANEL_BG
from omni_emotion.lexicon import FAMILIES
from omni_emotion.ui.colours import OTHER_COLOUR, expression_colour, label_colour
from omni_emotion.ui.draw import hex_to_rgb
from tests.desktop_env import missing, pulseaudio, xvfb

REPO = Path(__file__).resolve().parents[1]
SAID = "I am so happy today. This is wonderful news, and I feel great."
SAID_WORDS = {"happy", "today", "wonderful", "news", "great"}
VIDEO_WIDTH = 640  # face_noface.mov (960x540) scaled to --max-side 640 -> 640x360; the panel starts here
FAMILY_COLOURS = [hex_to_rgb(f.colour) for f in FAMILIES.values()] + [hex_to_rgb(OTHER_COLOUR)]
EXPRESSION_COLOURS = {
    hex_to_rgb(expression_colour(e))
    for e in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
}


def _longest_run(mask: np.ndarray, axis: int) -> int:
    """The longest run of True along ``axis`` anywhere in a 2-D mask."""
    best = 0
    lines = mask.T if axis == 0 else mask
    for line in lines:
        if not line.any():
            continue
        padded = np.concatenate(([0], line.astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(padded))
        best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


def face_box_drawn(screen: np.ndarray) -> bool:
    """A box outline in an expression colour over the video: a vertical and a horizontal run of >= 40 px
    (the "#id expression" tag above it is filled but only about 25 px tall)."""
    video = screen[:360, :VIDEO_WIDTH]
    for colour in EXPRESSION_COLOURS:
        mask = np.all(video == colour, axis=-1)
        if mask.sum() > 150 and _longest_run(mask, 0) >= 40 and _longest_run(mask, 1) >= 40:
            return True
    return False


def chips_drawn(screen: np.ndarray, colours=FAMILY_COLOURS) -> bool:
    """A label chip in the panel: >= 300 pixels of one family colour below the status line."""
    chips = screen[28:200, VIDEO_WIDTH : VIDEO_WIDTH + 440]
    return any(np.all(chips == colour, axis=-1).sum() >= 300 for colour in colours)


@pytest.fixture
def spoken_wav(tmp_path) -> Path:
    path = tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), SAID], check=True, timeout=60)
    return path


def loading_card_shown(screen: np.ndarray) -> bool:
    """The loading card: the video's area is the panel's background, with some words on it."""
    area = screen[:360, :VIDEO_WIDTH]
    background = np.all(area == np.array(PANEL_BG, np.uint8), axis=-1).mean()
    return 0.9 < background < 1.0


def _wait_for_window(x, process, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ids = x.window_ids("omni-emotion live")
        if ids:
            return ids[-1]
        if process.poll() is not None:
            pytest.fail(f"live exited with {process.returncode} before its window opened")
        time.sleep(0.25)
    pytest.fail(f"no window within {seconds:.0f} s")


def _words(text: str) -> set[str]:
    return set("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _saved_records(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("omni-emotion-*.json"))]


@pytest.mark.skipif(
    bool(missing("Xvfb", "xwd", "xdotool", "pulseaudio", "pactl", "espeak-ng")),
    reason=missing("Xvfb", "xwd", "xdotool", "pulseaudio", "pactl", "espeak-ng") or "-",
)
def test_live_window_from_a_file_camera_and_a_pulseaudio_microphone(tmp_path, media_dir, spoken_wav):
    clip = media_dir / "face_noface.mov"
    saves = tmp_path / "saved"
    log = tmp_path / "live.log"
    (tmp_path / "pulse").mkdir()
    with xvfb(tmp_path) as x, pulseaudio(tmp_path / "pulse", spoken_wav) as pulse:
        env = {**os.environ, **x.env(), **pulse.env(), "PYTHONPATH": str(REPO)}
        command = [
            sys.executable,
            "-m",
            "omni_emotion.cli",
            "live",
            "--camera",
            str(clip),
            "--mic",
            "pulse",
            "--engine",
            "clues",
            "--loop",
            "--duration",
            "240",
            "--save-dir",
            str(saves),
        ]
        with open(log, "w") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            window = _wait_for_window(x, process, 120)
            # 0. the window opens before the models load, and says they are loading
            shown_by, card = time.monotonic() + 10, False
            while not card and time.monotonic() < shown_by:
                card = loading_card_shown(x.screenshot())
                time.sleep(0 if card else 0.2)
            assert card, "the window opened without its loading card"
            deadline = time.monotonic() + 240
            while loading_card_shown(x.screenshot()) and time.monotonic() < deadline:
                time.sleep(0.3)
            opened = time.monotonic()
            # 1. within 10 s of the first frame, the X screen shows a face box and label chips together
            seen = first_box = first_chips = None
            while time.monotonic() - opened < 10 and seen is None:
                screen = x.screenshot()
                box, chips, at = face_box_drawn(screen), chips_drawn(screen), time.monotonic() - opened
                first_box = first_box if first_box is not None or not box else at
                first_chips = first_chips if first_chips is not None or not chips else at
                if box and chips:
                    seen = at
                else:
                    time.sleep(0.3)
            from PIL import Image

            Image.fromarray(screen).save(tmp_path / "screen.png")  # for a person to look at
            assert seen is not None, (
                f"no face box and labels together on the X screen within 10 s (first box at {first_box} s, first"
                f" chips at {first_chips} s, load average {os.getloadavg()[0]:.1f}): {tmp_path / 'screen.png'}"
            )
            # 2. the microphone is a PulseAudio recording stream, and what it hears reaches the transcript
            assert pulse.pactl("list", "short", "source-outputs").strip(), (
                "live records nothing from PulseAudio"
            )
            heard = ""
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not SAID_WORDS & _words(heard):
                x.key(window, "s")
                time.sleep(3)
                heard = " ".join(r["analysis"]["transcript"] for r in _saved_records(saves) if r["analysis"])
            assert SAID_WORDS & _words(heard), f"the transcripts never held the spoken words: {heard!r}"
            # 3. a saved screenshot shows the chips of the labels saved beside it
            last = sorted(saves.glob("omni-emotion-*.json"))[-1]
            labels = json.loads(last.read_text())["shown_labels"]
            saved_png = np.asarray(Image.open(last.with_suffix(".png")).convert("RGB"))
            assert chips_drawn(saved_png, [hex_to_rgb(label_colour(labels[0]))]), labels
            # 4. q quits at once and releases the microphone stream
            x.key(window, "q")
            assert process.wait(timeout=60) == 0
            assert not pulse.pactl("list", "short", "source-outputs").strip()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        output = log.read_text()
        assert "Traceback" not in output, output[-3000:]
        print(f"face box and labels {seen:.1f} s after the window opened; screen: {tmp_path / 'screen.png'}")
