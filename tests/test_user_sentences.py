"""Every user error is one sentence: Evaluate paths with a NUL byte or 100 kB of text, audio chunks that are
not PCM on /live_audio (no ffprobe needed), pictures whose header gives no size or too large a one on
/live_frame (TIFF, Radiance HDR, PPM), an over-long CSV cell (that row is skipped, like other bad rows) and
a ground truth past the documented row limit."""

from __future__ import annotations

import csv
import re
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from hostile import hdr_bomb, tiff_bomb

from omni_emotion.errors import EvaluationDataError, FrameTooLargeError, UnsupportedMediaError
from omni_emotion.evaluation import runner
from omni_emotion.image_header import declared_image_size
from omni_emotion.ui.config import resolve_allowed
from omni_emotion.ui.live_tab import read_audio, read_frame


@pytest.mark.parametrize(
    "text, sentence",
    [
        ("gt\0.csv", "The ground-truth CSV path holds a NUL byte, which no file name can hold."),
        (
            "a" * 100_000,
            "The ground-truth CSV path is 100000 bytes long, above the 4096-byte limit for a path.",
        ),
    ],
)
def test_evaluate_paths_that_name_no_file_get_a_sentence(tmp_path, text, sentence):
    with pytest.raises(EvaluationDataError) as caught:
        resolve_allowed(text, (tmp_path,), kind="ground-truth CSV")
    assert str(caught.value) == sentence


def test_a_name_part_over_255_bytes_is_not_a_traceback(tmp_path):
    with pytest.raises(EvaluationDataError, match="is not an existing file inside the allowed"):
        resolve_allowed("x" * 300 + ".csv", (tmp_path,), kind="ground-truth CSV")


def test_tiff_and_hdr_headers_are_read():
    for ext in (".tiff", ".hdr"):
        image = np.zeros((30, 50, 3), np.float32 if ext == ".hdr" else np.uint8)
        path = Path(f"/dev/shm/omni-emotion-header-test{ext}")
        try:
            cv2.imwrite(str(path), image)
            assert declared_image_size(path) == (50, 30)
        finally:
            path.unlink(missing_ok=True)


@pytest.mark.parametrize("make, name", [(tiff_bomb, "bomb.tiff"), (hdr_bomb, "bomb.hdr")])
def test_live_frame_bombs_are_refused_from_their_header(tmp_path, make, name):
    path = make(tmp_path / name)
    with pytest.raises(FrameTooLargeError, match=re.escape(f"{name} has a 16000x16000 frame (256.0 MP)")):
        read_frame(str(path), 4096 * 4096)


def test_live_frame_refuses_formats_whose_size_it_cannot_read_first(tmp_path):
    path = tmp_path / "frame.ppm"
    cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))  # OpenCV reads it; its size is not read first
    with pytest.raises(
        UnsupportedMediaError,
        match=r"frame.ppm is not an image whose size can be read before "
        "decoding; send PNG, JPEG, GIF, BMP, WebP, TIFF or Radiance HDR.",
    ):
        read_frame(str(path), 4096 * 4096)


def opus_chunk(path: Path, seconds: float = 0.5) -> Path:
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48_000)
        stream.layout = "mono"
        tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * 48_000)) / 48_000)).astype(np.float32)
        for start in range(0, tone.size, 960):
            frame = av.AudioFrame.from_ndarray(tone[None, start : start + 960], format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48_000, start, Fraction(1, 48_000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def test_live_audio_decodes_non_pcm_chunks_without_ffprobe(tmp_path):
    rate, samples = read_audio(str(opus_chunk(tmp_path / "chunk.ogg")))
    assert rate == 16_000 and samples.dtype == np.float32 and abs(samples.size - 8000) < 800


def test_live_audio_over_http_takes_an_opus_chunk(tmp_path):
    from fake_app import fake_demo
    from fixtures import FakePipeline
    from gradio_client import handle_file

    demo, client = fake_demo(FakePipeline(decode=True))
    try:
        client.predict(handle_file(str(opus_chunk(tmp_path / "chunk.ogg"))), api_name="/live_audio")
        with pytest.raises(Exception, match=r"bomb.tiff has a 16000x16000 frame \(256.0 MP\)"):
            client.predict(handle_file(str(tiff_bomb(tmp_path / "bomb.tiff"))), api_name="/live_frame")
    finally:
        client.close()
        demo.close()


def write_gt(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "openset"])
        writer.writerows(rows)
    return path


def test_an_over_long_cell_skips_only_its_row(tmp_path):
    long = "[" + ", ".join(["happy"] * 30_000) + "]"  # 210,001 characters
    path = write_gt(tmp_path / "gt.csv", [("a", "[happy]"), ("b", long), ("c", "[sad]")])
    truth = runner.read_ground_truth(path)
    assert truth.labels == {"a": ["happy"], "c": ["sad"]}
    assert truth.problems == {"ground-truth line 3": "a line longer than 131,072 characters"}


def test_an_over_long_jsonl_line_skips_only_that_line(tmp_path):
    path = tmp_path / "pred.jsonl"
    path.write_text(
        '{"name": "a", "labels": ["happy"]}\n{"name": "b", "reason": "' + "x" * 200_000 + '"}\n'
        '{"name": "c", "labels": ["sad"]}\n'
    )
    pred = runner.read_predictions(path)
    assert pred.labels == {"a": ["happy"], "c": ["sad"]}
    assert pred.problems == {"prediction line 2": "a line longer than 131,072 characters"}


def test_files_past_the_row_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MAX_ROWS", 5)
    path = write_gt(tmp_path / "gt.csv", [(f"s{i}", "[happy]") for i in range(6)])
    with pytest.raises(
        EvaluationDataError,
        match=r"gt.csv has more than 5 rows, the most one evaluation"
        " reads; split it into parts and score each.",
    ):
        runner.read_ground_truth(path)
    assert len(runner.read_ground_truth(write_gt(tmp_path / "ok.csv", [("a", "[sad]")] * 5)).labels) == 1
