"""`omni-emotion live` without a camera or microphone: one clear sentence and exit code 2."""

from __future__ import annotations

import pytest

from omni_emotion.cli import main
from omni_emotion.errors import DeviceUnavailableError
from omni_emotion.desktop.microphone import check_microphone
from omni_emotion.desktop.sources import open_camera, parse_source


def test_missing_camera_is_a_clear_error_with_exit_2(capsys):
    assert main(["live", "--camera", "97"]) == 2
    err = capsys.readouterr().err
    assert "omni-emotion: error: No camera at index 97" in err
    assert "Traceback" not in err


def test_missing_camera_and_microphone_raise_device_errors():
    with pytest.raises(DeviceUnavailableError, match="index 98"):
        open_camera(parse_source("98", devices_by_name=False))
    with pytest.raises(DeviceUnavailableError, match="microphone|PortAudio"):
        check_microphone(9999)


def test_serve_and_live_are_registered(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "--share" in out and "--data-dir" in out
