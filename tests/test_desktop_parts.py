"""The desktop window's parts without a display: source parsing, the playback clock and mailbox, file pacing,
text wrapping, drawing (boxes and family-coloured chips), fonts, keys and the XWD reader the X tests use."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.desktop.fonts import FontFace, find_cjk_font, load_fonts, pick_font
from omni_emotion.desktop.overlay import Painter, PanelEntry, PanelView, wrap_text
from omni_emotion.desktop.sources import Mailbox, MediaSource, PlaybackClock, parse_source
from omni_emotion.desktop.window import action_for_key
from omni_emotion.errors import ConfigError, MediaNotFoundError, UnsupportedMediaError
from omni_emotion.live import LiveFace
from omni_emotion.media import MEDIA_SUFFIXES
from omni_emotion.ui.colours import expression_colour, label_colour
from omni_emotion.ui.draw import hex_to_rgb
from tests.conftest import write_av
from tests.desktop_env import read_xwd, write_xwd


# ---- sources ---------------------------------------------------------------------------------------------
def test_source_values_are_classified(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    assert parse_source("0", devices_by_name=False).kind == "index"
    assert parse_source(" 2 ", devices_by_name=True).index == 2
    assert parse_source("rtsp://cam.local/live", devices_by_name=False).kind == "url"
    assert parse_source(str(clip), devices_by_name=False).kind == "file"
    assert parse_source("/dev/video2", devices_by_name=False).kind == "device"
    assert parse_source("pulse", devices_by_name=True) == parse_source("pulse", devices_by_name=True)
    assert parse_source("pulse", devices_by_name=True).kind == "device"
    assert parse_source("USB Audio 2.0", devices_by_name=True).kind == "device"
    assert parse_source("hw:1,0", devices_by_name=True).kind == "device"
    with pytest.raises(MediaNotFoundError, match="does not exist"):
        parse_source("pulse", devices_by_name=False)  # a camera name is a missing file
    with pytest.raises(MediaNotFoundError, match=r"missing.wav does not exist"):
        parse_source(str(tmp_path / "missing.wav"), devices_by_name=True)
    with pytest.raises(UnsupportedMediaError, match="folder"):
        parse_source(str(tmp_path), devices_by_name=False)


@pytest.mark.parametrize("suffix", MEDIA_SUFFIXES)
def test_a_missing_media_file_is_never_taken_for_a_device_name(suffix):
    """The desktop reads file names by media's one list of suffixes: ``--mic take1.flv`` (no folder) is
    a missing file, not a sounddevice name."""
    with pytest.raises(MediaNotFoundError, match="does not exist"):
        parse_source(f"take1{suffix}", devices_by_name=True)


def test_playback_clock_stops_while_paused():
    now = [100.0]
    clock = PlaybackClock(lambda: now[0])
    now[0] += 2.0
    clock.pause()
    now[0] += 5.0
    assert clock.now() == pytest.approx(2.0) and clock.paused
    clock.resume()
    now[0] += 1.0
    assert clock.now() == pytest.approx(3.0) and not clock.paused


def test_mailbox_keeps_only_the_newest_frame_and_reports_the_end():
    box = Mailbox()
    assert box.take(0.01) is None
    for i in range(3):
        box.put(np.full((2, 2, 3), i, np.uint8))
    assert box.take(0.01)[0, 0, 0] == 2 and box.dropped == 2 and box.delivered == 3
    assert box.take(0.01) is None
    box.finish(None)
    assert box.ended and box.error is None


def _collect(source: MediaSource, seconds: float) -> tuple[int, float]:
    """Frames taken from ``source`` and the seconds until it ended (or ``seconds``)."""
    started = time.monotonic()
    source.start()
    frames = 0
    while time.monotonic() - started < seconds and not source.mailbox.ended and source.mailbox.error is None:
        frames += source.mailbox.take(0.05) is not None
    elapsed = time.monotonic() - started
    source.close()
    return frames, elapsed


def test_a_file_camera_plays_at_its_own_rate_with_its_sound(tmp_path):
    clip = write_av(tmp_path / "c.mp4", seconds=1.6, fps=25, size=(320, 240))
    audio: list[int] = []
    source = MediaSource(
        parse_source(str(clip), devices_by_name=False),
        PlaybackClock(),
        on_audio=lambda samples, rate: audio.append(samples.size),
        max_side=160,
    )
    assert not source.live and source.has_audio
    frames, elapsed = _collect(source, 20.0)
    assert source.mailbox.ended and not source.alive
    # decoding 40 small frames takes milliseconds; paced playback takes the clip's 1.6 s
    assert elapsed >= 1.5
    assert frames >= 1
    assert sum(audio) == pytest.approx(1.6 * 16_000, rel=0.1)


def test_pausing_the_clock_pauses_a_file_and_loop_replays_it(tmp_path):
    clip = write_av(tmp_path / "c.mp4", seconds=0.8, fps=25, size=(160, 120), tone_hz=None)
    clock = PlaybackClock()
    clock.pause()
    source = MediaSource(parse_source(str(clip), devices_by_name=False), clock, loop=True)
    source.start()
    time.sleep(0.6)
    assert source.mailbox.delivered <= 1  # only the first frame is due at playback second 0
    clock.resume()
    time.sleep(2.2)  # almost three passes of a 0.8 s clip
    assert source.mailbox.delivered > 25 and not source.mailbox.ended
    source.close()
    assert not source.alive


def test_decoded_frames_are_scaled_to_max_side(tmp_path):
    clip = write_av(tmp_path / "c.mp4", seconds=0.3, fps=10, size=(640, 360), tone_hz=None)
    source = MediaSource(parse_source(str(clip), devices_by_name=False), PlaybackClock(), max_side=320)
    source.start()
    frame = source.mailbox.take(5.0)
    source.close()
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8


def test_sources_without_the_needed_track_are_refused(tmp_path):
    audio_only = write_av(tmp_path / "a.m4a", seconds=0.5, video=False)
    silent = write_av(tmp_path / "v.mp4", seconds=0.5, tone_hz=None)
    with pytest.raises(UnsupportedMediaError, match="no video track"):
        MediaSource(parse_source(str(audio_only), devices_by_name=False), PlaybackClock())
    with pytest.raises(UnsupportedMediaError, match="no audio track"):
        MediaSource(
            parse_source(str(silent), devices_by_name=True),
            PlaybackClock(),
            video=False,
            on_audio=lambda s, r: None,
        )
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(UnsupportedMediaError, match=r"junk.mp4 is not a readable"):
        MediaSource(parse_source(str(junk), devices_by_name=False), PlaybackClock())


def test_an_audio_file_plays_as_a_microphone_in_real_time(tmp_path):
    wav = write_av(tmp_path / "m.wav", seconds=1.2, video=False, acodec="pcm_s16le", audio_rate=22_050)
    chunks: list[tuple[float, int]] = []
    source = MediaSource(
        parse_source(str(wav), devices_by_name=True),
        PlaybackClock(),
        video=False,
        on_audio=lambda s, r: chunks.append((time.monotonic(), s.size)),
    )
    started = time.monotonic()
    source.start()
    while source.alive and time.monotonic() - started < 20:
        time.sleep(0.05)
    assert sum(n for _, n in chunks) == pytest.approx(1.2 * 16_000, rel=0.05)
    assert chunks[-1][0] - started >= 1.0  # the last chunk came when it was due, not at once


# ---- drawing ---------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab cdefg  xyz") + ["你", "好", "。", "\n"]), max_size=120),
    width=st.integers(min_value=1, max_value=30),
)
def test_wrapping_keeps_every_character_and_fits_lines(text, width):
    lines = wrap_text(text, width, len)
    assert all(len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert all(line == line.strip() for line in lines)


def test_wrapping_breaks_latin_at_spaces_and_cjk_anywhere():
    assert wrap_text("happy and relaxed today", 10, len) == ["happy and", "relaxed", "today"]
    assert wrap_text("我今天很高兴", 4, len) == ["我今天很", "高兴"]
    assert wrap_text("extraordinarily", 5, len) == ["extra", "ordin", "arily"]


def test_pick_font_prefers_regular_simplified_chinese_sans():
    faces = [
        FontFace("/f/NotoSerifCJK-Regular.ttc", 2, "Noto Serif CJK SC", "Regular"),
        FontFace("/f/NotoSansCJK-Bold.ttc", 2, "Noto Sans CJK SC", "Bold"),
        FontFace("/f/NotoSansCJK-Regular.ttc", 5, "Noto Sans Mono CJK SC", "Regular"),
        FontFace("/f/NotoSansCJK-Regular.ttc", 0, "Noto Sans CJK JP", "Regular"),
        FontFace("/f/NotoSansCJK-Regular.ttc", 2, "Noto Sans CJK SC", "Regular"),
    ]
    assert pick_font(faces) == faces[-1]
    assert pick_font([]) is None


def test_a_missing_font_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_fonts(str(tmp_path / "none.ttf"))
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"no font")
    with pytest.raises(ConfigError, match="not a TrueType"):
        load_fonts(str(bad))


def test_without_a_cjk_font_the_window_says_so_once_and_uses_a_latin_font(monkeypatch, caplog):
    import omni_emotion.desktop.fonts as fonts_module

    monkeypatch.setattr(fonts_module, "find_cjk_font", lambda: None)
    with caplog.at_level("WARNING", logger="omni_emotion.desktop.fonts"):
        fonts = load_fonts()
    assert not fonts.cjk
    assert [r.getMessage() for r in caplog.records] == [fonts_module.NO_CJK_FONT]
    assert fonts.text.getbbox("happy")[2] > 0


@pytest.fixture(scope="module")
def cjk_fonts():
    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    return load_fonts()


def _glyph(text: str, fonts) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.new("L", (200, 60), 0)
    ImageDraw.Draw(image).text((5, 5), text, font=fonts.text, fill=255)
    return np.asarray(image)


def test_the_cjk_font_draws_chinese_glyphs_not_boxes(cjk_fonts):
    # each ideograph has its own shape: with a font lacking them, all three would be the same .notdef box
    shapes = [_glyph(ch, cjk_fonts) for ch in "你好谢"]
    assert all(shape.sum() > 0 for shape in shapes)
    assert not np.array_equal(shapes[0], shapes[1]) and not np.array_equal(shapes[1], shapes[2])
    assert cjk_fonts.cjk


def _count(canvas: np.ndarray, colour: str, region: tuple[slice, slice]) -> int:
    return int(np.all(canvas[region] == np.array(hex_to_rgb(colour), np.uint8), axis=-1).sum())


def test_painter_draws_boxes_chips_and_the_history(cjk_fonts):
    frame = np.full((240, 320, 3), 128, np.uint8)
    face = LiveFace(3, (40.0, 50.0, 140.0, 170.0), 0.9, "happy", (0, 0, 0, 0.8, 0, 0.1, 0.1))
    view = PanelView(
        labels=("angry", "sad"),
        entries=(PanelEntry(5.0, "我很生气", "The voice is loud."), PanelEntry(4.0, "", "Calm.")),
    )
    painter = Painter(cjk_fonts, panel_width=300)
    canvas = painter.paint(frame, [face], view, "9.0 fps")
    assert canvas.shape == (480, 620, 3)
    box = expression_colour("happy")
    video = (slice(0, 240), slice(0, 320))
    assert _count(canvas, box, (slice(50, 171), slice(40, 44))) >= 100  # the left edge
    assert _count(canvas, box, video) > 400
    panel = (slice(0, 480), slice(320, 620))
    for label in ("angry", "sad"):
        assert _count(canvas, label_colour(label), panel) > 300
    mirrored = painter.paint(frame, [face], view, "9.0 fps", mirror=True)
    assert _count(mirrored, box, (slice(50, 171), slice(320 - 140, 320 - 136))) >= 100
    assert np.all(frame == 128)  # the input frame is untouched


def test_keys_map_to_actions():
    assert [action_for_key(k) for k in ("q", "Q", "Escape", "space", "s", "m", "x", "")] == [
        "quit",
        "quit",
        "quit",
        "pause",
        "save",
        "mirror",
        "",
        "",
    ]


# ---- the X screen reader ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bits, order, pad", [(32, 0, 0), (24, 0, 1280), (32, 1, 4), (24, 1, 0)])
def test_xwd_reader_round_trips(bits, order, pad):
    rng = np.random.default_rng(bits + order)
    image = rng.integers(0, 256, (7, 11, 3), dtype=np.uint8)
    assert np.array_equal(
        read_xwd(write_xwd(image, bits_per_pixel=bits, byte_order=order, pad_bytes=pad)), image
    )
    with pytest.raises(ValueError, match="truncated"):
        read_xwd(write_xwd(image)[:-5])


def test_an_http_url_camera_is_read_and_paced_like_a_file(tmp_path):
    import functools
    import http.server

    write_av(tmp_path / "c.mp4", seconds=1.0, fps=25, size=(160, 120))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/c.mp4"
        source = MediaSource(
            parse_source(url, devices_by_name=False), PlaybackClock(), on_audio=lambda s, r: None
        )
        assert source.describe == f"stream {url}" and not source.live and source.has_audio
        frames, elapsed = _collect(source, 20.0)
        assert frames >= 1 and elapsed >= 0.9 and source.mailbox.ended
    finally:
        server.shutdown()
