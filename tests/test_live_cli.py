"""`omni-emotion live` without a camera or microphone: one clear sentence and exit code 2."""

from __future__ import annotations

import pytest

from omni_emotion.cli import build_parser, main
from omni_emotion.desktop.microphone import check_microphone
from omni_emotion.desktop.sources import open_camera, parse_source
from omni_emotion.errors import DeviceUnavailableError


def test_missing_camera_is_a_clear_error_with_exit_2(capsys):
    assert main(["live", "--camera", "97"]) == 2
    err = capsys.readouterr().err
    assert "omni-emotion: error: No camera at index 97" in err
    assert "Traceback" not in err


def test_missing_camera_and_microphone_raise_device_errors():
    with pytest.raises(DeviceUnavailableError, match="index 98"):
        open_camera(parse_source("98", devices_by_name=False))
    with pytest.raises(DeviceUnavailableError, match=r"microphone|PortAudio"):
        check_microphone(9999)


def test_serve_and_live_are_registered_with_their_own_runner_and_options():
    parser = build_parser()
    serve = parser.parse_args(["serve", "--share", "--port", "9999", "--data-dir", "a", "--data-dir", "b"])
    assert (serve.command, serve.share, serve.port, serve.data_dir) == ("serve", True, 9999, ["a", "b"])
    live = parser.parse_args(
        ["live", "--camera", "clip.mp4", "--mic", "talk.wav", "--loop", "--duration", "2"]
    )
    assert (live.command, live.camera, live.mic) == ("live", "clip.mp4", "talk.wav")
    assert live.loop and live.duration == 2.0
    assert callable(serve.func) and callable(live.func) and serve.func is not live.func
    assert (serve.func.__name__, live.func.__name__) == ("serve", "live")


def test_a_missing_camera_file_and_a_dead_stream_url_are_one_sentence(capsys, tmp_path):
    assert main(["live", "--camera", str(tmp_path / "nope.mp4")]) == 2
    assert "nope.mp4 does not exist." in capsys.readouterr().err
    # nothing listens on port 9 (discard) of this machine: the stream cannot be opened
    assert main(["live", "--camera", "http://127.0.0.1:9/cam.mjpg"]) == 2
    err = capsys.readouterr().err
    assert "Could not open the stream http://127.0.0.1:9/cam.mjpg" in err and "Traceback" not in err


def test_no_display_is_one_sentence_before_any_model_loads(capsys, monkeypatch, tmp_path):
    from tests.conftest import write_av

    clip = write_av(tmp_path / "c.mp4", seconds=0.5)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["live", "--camera", str(clip), "--mic", str(clip)]) == 2
    assert "No display to open the live window on" in capsys.readouterr().err
