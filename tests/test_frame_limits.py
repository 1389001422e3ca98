"""The pixel limit holds for every frame, not only the first: streams whose picture size grows partway (a new
H.264 SPS at a keyframe, an MJPEG frame that declares its own size) are refused with the one sentence that
``errors.check_pixels`` writes, in every reader: the clip decoder, the folder job, the desktop sources and
the live buffers. Small sizes and a small limit stand in for 16000-pixel frames, which bench/hostile_rss.py
measures."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hostile import growing_h264, growing_mjpeg_avi

from omni_emotion.errors import FrameTooLargeError, check_pixels
from omni_emotion.media import MediaConfig, iter_frames, load_clip

LIMIT = MediaConfig(max_pixels=200 * 200)  # the first frames (64 px) fit, the later 320x240 ones do not


def sentence(name: str) -> str:
    return re.escape(
        f"{name} has a 320x240 frame (0.1 MP), above the 0.0 MP limit; send a smaller picture"
        " or downscale the video."
    )


@pytest.fixture(scope="module")
def growing(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("growing")
    return {
        "h264": growing_h264(folder / "grows.h264", large=(320, 240)),
        "mjpeg": growing_mjpeg_avi(folder / "grows.avi", large=(320, 240)),
    }


def test_the_sentence_is_the_same_everywhere():
    with pytest.raises(FrameTooLargeError, match=sentence("x.mp4")):
        check_pixels("x.mp4", 320, 240, 200 * 200)
    check_pixels("x.mp4", 200, 200, 200 * 200)  # at the limit: allowed


@pytest.mark.parametrize("kind", ["h264", "mjpeg"])
def test_the_clip_decoder_checks_every_frame(growing, kind):
    path = growing[kind]
    readers = (
        lambda: load_clip(path, config=LIMIT),
        lambda: load_clip(path, fps=25, config=LIMIT),
        lambda: list(iter_frames(path, fps=25, max_side=None, config=LIMIT)),
    )
    for read in readers:
        with pytest.raises(FrameTooLargeError, match=sentence(path.name)):
            read()
    assert load_clip(path).frames.shape[0] == 8  # within the default limit both decode


@pytest.mark.parametrize("kind", ["h264", "mjpeg"])
def test_the_folder_job_records_the_sentence(growing, kind, tmp_path):
    from omni_emotion.jobs.folder import analyze_folder
    from omni_emotion.safe_json import loads

    class Factory:
        def create(self):
            return Decoder()

    class Decoder:
        def analyze_file(self, path, progress=None):
            load_clip(path, config=LIMIT)
            raise AssertionError("the clip should have been refused")

    folder = tmp_path / "in"
    folder.mkdir()
    clip = folder / "clip.mkv"  # a folder job picks clips by suffix; ffmpeg reads them by content
    clip.write_bytes(growing[kind].read_bytes())
    out = tmp_path / "out.jsonl"
    summary = analyze_folder(folder, out, Factory())
    record = loads(out.read_text().splitlines()[0])
    assert summary.failed == 1 and re.fullmatch(sentence(clip.name), record["error"])


@pytest.mark.parametrize("kind", ["h264", "mjpeg"])
def test_a_desktop_file_source_checks_every_frame(growing, kind):
    from omni_emotion.desktop.sources import MediaSource, PlaybackClock, parse_source

    path = growing[kind]

    def error() -> Exception | None:
        """The source's error: at opening (the size probing saw) or from the reader thread (a later frame)."""
        try:
            source = MediaSource(
                parse_source(str(path), devices_by_name=False),
                PlaybackClock(),
                max_side=64,
                max_pixels=LIMIT.max_pixels,
            )
        except FrameTooLargeError as err:
            return err
        source.start()
        while not (source.mailbox.ended or source.mailbox.error):
            source.mailbox.take(0.05)
        source.close()
        return source.mailbox.error

    err = error()
    assert isinstance(err, FrameTooLargeError) and re.fullmatch(sentence(path.name), str(err))


def test_the_live_buffers_use_the_same_sentence():
    from test_live import models

    from omni_emotion.live import LiveConfig, LiveSession

    session = LiveSession(models(), LiveConfig(max_pixels=LIMIT.max_pixels), background=False)
    session.process_frame(np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(FrameTooLargeError, match=sentence("The live stream")):
        session.process_frame(np.zeros((240, 320, 3), np.uint8))
    session.close()
