"""Hostile media, one regression test per failure seen: files without a declared duration, a picture that
declares gigapixels, paths that are not regular files. Every input is generated here (tests/hostile.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
from conftest import write_av
from hostile import garbled_mp4, live_webm, png_bomb, raw_h264

from omni_emotion import errors
from omni_emotion.cli import main as cli_main
from omni_emotion.image_header import declared_image_size
from omni_emotion.media import MediaConfig, check_media, iter_frames, load_clip


@pytest.mark.parametrize("make, name", [(live_webm, "recorded.webm"), (raw_h264, "stream.h264")])
def test_media_without_a_declared_duration_decode(tmp_path, make, name):
    clip = load_clip(make(tmp_path / name, seconds=2.0))
    assert clip.frames.shape == (8, 240, 320, 3) and clip.duration == pytest.approx(2.0, abs=0.1)
    assert np.all(np.diff(clip.timestamps) > 0)  # eight distinct frames spread over the clip
    assert len(list(iter_frames(tmp_path / name, fps=5))) == 10


@pytest.mark.parametrize("make, name", [(live_webm, "recorded.webm"), (raw_h264, "stream.h264")])
def test_the_duration_limit_holds_without_a_declared_duration(tmp_path, make, name):
    path = make(tmp_path / name, seconds=3.0)
    for decode in (
        lambda: load_clip(path, config=MediaConfig(max_duration_s=1.0)),
        lambda: list(iter_frames(path, fps=5, config=MediaConfig(max_duration_s=1.0))),
    ):
        with pytest.raises(errors.ClipTooLongError, match=f"{name} runs past the 1 s limit"):
            decode()


def test_a_picture_declaring_gigapixels_is_refused_before_decoding(tmp_path):
    """A 1 KB PNG that declares 16000x16000 16-bit pixels made ffmpeg allocate 2 GB while probing it."""
    path = png_bomb(tmp_path / "bomb.png")
    script = textwrap.dedent(f"""
        import re
        from omni_emotion.errors import FrameTooLargeError
        from omni_emotion.media import check_media, load_clip
        for refuse in (check_media, load_clip):
            try:
                refuse({str(path)!r})
            except FrameTooLargeError as err:
                print(err)
        # VmHWM: this process's own peak (ru_maxrss would include the parent's from before the fork)
        print(int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())[1]) // 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    *messages, peak_mb = out.strip().splitlines()
    assert len(messages) == 2 and all("bomb.png has a 16000x16000 frame" in m for m in messages)
    assert int(peak_mb) < 500, f"refusing a 1 KB picture peaked at {peak_mb} MB"


@pytest.mark.parametrize("ext", ["png", "jpg", "bmp", "webp"])
def test_declared_image_size_reads_what_encoders_write(tmp_path, ext):
    path = tmp_path / f"still.{ext}"
    assert cv2.imwrite(str(path), np.zeros((123, 457, 3), np.uint8))
    assert declared_image_size(path) == (457, 123)


def test_declared_image_size_ignores_videos_and_short_headers(tmp_path, make_av):
    assert declared_image_size(make_av("clip.mp4", seconds=0.2)) is None
    (tmp_path / "short.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0")
    assert declared_image_size(tmp_path / "short.png") is None


def test_paths_that_are_not_regular_files_say_what_they_are(tmp_path):
    (tmp_path / "a.mp4").symlink_to("b.mp4")
    (tmp_path / "b.mp4").symlink_to("a.mp4")
    (tmp_path / "dangling.mp4").symlink_to("nowhere.mp4")
    os.mkfifo(tmp_path / "pipe.mp4")
    cases = {
        "a.mp4": "a.mp4 is a loop of symbolic links",
        "dangling.mp4": "link to nowhere.mp4, which does not",
        "pipe.mp4": "pipe.mp4 is a named pipe (FIFO), not a regular",
    }
    for name, message in cases.items():
        with pytest.raises(errors.MediaNotFoundError, match=re.escape(message)):
            check_media(tmp_path / name)
    with pytest.raises(errors.MediaNotFoundError, match="zero is a device"):
        load_clip("/dev/zero")


def test_error_messages_name_the_file_not_its_folder(tmp_path):
    folder = tmp_path / "gradio" / "3f2a9c"
    folder.mkdir(parents=True)
    (folder / "my clip.mp4").write_text("not a video")
    for path in (folder / "my clip.mp4", folder / "missing.mp4"):
        with pytest.raises(errors.MediaError) as info:
            check_media(path)
        assert path.name in str(info.value) and str(folder) not in str(info.value)


def test_analyze_reports_an_undecodable_clip_before_loading_models(tmp_path, capsys):
    """The container opens but no frame decodes: the sentence comes before any progress bar or weights."""
    path = garbled_mp4(tmp_path / "garbled.mp4", write_av(tmp_path / "good.mp4", seconds=1.0))
    assert cli_main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni-emotion: error: garbled.mp4 has a video stream that cannot be decoded")
    assert err.count("\n") == 1, err  # nothing else: no progress bar, no weight loading
