"""Uploads and outputs of the web app stay in one private folder that is emptied by age and removed at
shutdown; /live_frame enforces the pixel limit and follows frame size changes. A fake pipeline keeps the
server cheap (no models)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_av
from fake_app import fake_demo
from fixtures import FakePipeline
from gradio_client import handle_file
from hostile import png_bomb

from omni_emotion.ui.tempfiles import DELETE_CACHE, FILE_TTL_S, app_temp_dir, call_dir


def png(path: Path, width: int, height: int) -> Path:
    import cv2

    assert cv2.imwrite(str(path), np.zeros((height, width, 3), np.uint8))
    return path


def test_uploads_stay_in_one_private_folder_that_is_removed_at_shutdown(tmp_path):
    pipeline = FakePipeline(decode=True)
    with app_temp_dir() as folder:
        demo, client = fake_demo(pipeline)
        try:
            assert demo.analytics_enabled is False and demo.delete_cache == DELETE_CACHE
            assert folder.stat().st_mode & 0o777 == 0o700
            client.predict(
                handle_file(str(write_av(tmp_path / "my face.mp4", seconds=0.5))), api_name="/analyze"
            )
            client.predict(handle_file(str(png(tmp_path / "frame.png", 64, 48))), api_name="/live_frame")
            assert Path(pipeline.paths[-1]).is_relative_to(folder)
            written = [p for p in folder.rglob("*") if p.is_file()]
            assert (
                any(p.name == "my face.mp4" for p in written) and len(written) >= 3
            )  # clip, frame, annotated
        finally:
            client.close()
            demo.close()
    assert not folder.exists()
    assert os.environ.get("GRADIO_TEMP_DIR") != str(folder)


def test_error_messages_name_the_upload_not_the_temp_folder(tmp_path):
    pipeline = FakePipeline(decode=True)
    with app_temp_dir() as folder:
        demo, client = fake_demo(pipeline)
        try:
            empty = tmp_path / "holiday.mp4"
            empty.write_bytes(b"")
            with pytest.raises(Exception) as info:
                client.predict(handle_file(str(empty)), api_name="/analyze")
            assert "holiday.mp4 is an empty file" in str(info.value) and str(folder) not in str(info.value)
        finally:
            client.close()
            demo.close()


@pytest.fixture(scope="module")
def server():
    pipeline = FakePipeline(decode=True)
    with app_temp_dir():
        demo, client = fake_demo(pipeline)
        yield pipeline, client
        client.close()
        demo.close()


def test_live_frame_refuses_frames_over_the_pixel_limit(server, tmp_path):
    _, client = server
    client.reset_session()
    with pytest.raises(Exception, match=r"9000x9000 .* above the 16.8 MP limit"):
        client.predict(handle_file(str(png(tmp_path / "huge.png", 9000, 9000))), api_name="/live_frame")


def test_live_frame_refuses_a_picture_bomb_before_decoding_it(server, tmp_path):
    """A 1 KB PNG declaring 16000x16000 pixels: refused from its header, not by the decoder running out."""
    _, client = server
    client.reset_session()
    with pytest.raises(Exception, match=r"bomb.png has a 16000x16000 frame \(256.0 MP\), above the 16.8 MP"):
        client.predict(handle_file(str(png_bomb(tmp_path / "bomb.png"))), api_name="/live_frame")


def test_live_frame_follows_a_change_of_frame_size(server, tmp_path):
    pipeline, client = server
    client.reset_session()
    large, small = png(tmp_path / "large.png", 640, 480), png(tmp_path / "small.png", 320, 240)
    for path in [large] * 3 + [small] * 3:
        client.predict(handle_file(str(path)), api_name="/live_frame")
        time.sleep(0.26)  # past the 4 frames/s buffering interval, so each frame is buffered
    assert client.predict(api_name="/live_labels")["labels"] == ["calm"]
    assert pipeline.clips[-1].frames.shape[1:] == (240, 320, 3)


def test_call_folders_live_in_the_app_folder_and_expire(tmp_path):
    with app_temp_dir(tmp_path) as folder:
        old, new = call_dir("eval-"), call_dir("eval-")
        assert old.parent == folder == new.parent and old.name.startswith("omni-emotion-call-eval-")
        (old / "predictions.csv").write_text("name,openset\n")
        stale = time.time() - FILE_TTL_S - 1
        os.utime(old, (stale, stale))
        newest = call_dir("eval-")
        assert not old.exists() and new.exists() and newest.exists()
    assert not folder.exists()
