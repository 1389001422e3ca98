"""Decoding: real shared clips, generated clips in many containers/codecs, and every kind of bad input."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import write_av, write_wav
from hostile import hostile_corpus

from omni_emotion import errors
from omni_emotion.cli import main as cli_main
from omni_emotion.media import (
    MediaConfig,
    clip_from_arrays,
    iter_frames,
    load_audio,
    load_clip,
    resample_audio,
)
from omni_emotion.types import SAMPLE_RATE, FaceTrack, Prosody, Transcript


def dominant_hz(audio: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.fft.rfftfreq(audio.size, 1 / rate)[np.argmax(spectrum)])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- generated clips -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,vcodec,acodec",
    [
        ("a.mp4", "libx264", "aac"),
        ("b.mov", "libx264", "pcm_s16le"),
        ("c.mkv", "libx265", "libopus"),
        ("d.webm", "libvpx-vp9", "libopus"),
        ("e.avi", "mpeg4", "libmp3lame"),
    ],
)
def test_containers_and_codecs(make_av, name, vcodec, acodec):
    path = make_av(name, seconds=2.0, fps=25, vcodec=vcodec, acodec=acodec, audio_rate=48_000)
    clip = load_clip(path, num_frames=8)
    assert clip.frames.shape == (8, 240, 320, 3) and clip.frames.dtype == np.uint8
    assert np.all(np.diff(clip.timestamps) > 0)
    assert 0.0 <= clip.timestamps[0] < 0.25 and 1.75 < clip.timestamps[-1] <= 2.0
    assert clip.audio.dtype == np.float32 and clip.sample_rate == SAMPLE_RATE
    assert abs(clip.audio_seconds - 2.0) < 0.1
    assert abs(clip.duration - 2.0) < 0.1
    assert abs(dominant_hz(clip.audio) - 440.0) < 3.0


def test_uniform_sampling_picks_frames_at_bin_centres(make_av):
    # frame i carries its index in the red channel, so the chosen frame indices can be read back
    path = make_av(
        "idx.mp4",
        seconds=4.0,
        fps=25,
        tone_hz=None,
        vcodec="libx264",
        frame_fn=lambda i, t: np.full((240, 320, 3), (i * 2) % 256, np.uint8),
    )
    clip = load_clip(path, num_frames=8)
    expected = (np.arange(8) + 0.5) * 4.0 / 8
    assert np.allclose(clip.timestamps, expected, atol=0.021)
    indices = np.round(clip.frames[:, 120, 160, 0].astype(float) / 2)
    assert np.allclose(indices, np.round(clip.timestamps * 25), atol=1)


def test_dense_stream_rate_and_resize(make_av):
    path = make_av("dense.mp4", seconds=3.0, fps=30, size=(640, 480))
    frames = list(iter_frames(path, fps=5, max_side=320))
    assert 14 <= len(frames) <= 16
    times = np.array([t for t, _ in frames])
    assert np.allclose(np.diff(times), 0.2, atol=0.034)
    assert frames[0][1].shape == (240, 320, 3)
    clip = load_clip(path, fps=5, max_side=320)
    assert len(clip.frames) == len(frames)


def test_resampling_keeps_pitch_for_many_rates(tmp_path):
    for rate in (8_000, 22_050, 44_100, 48_000):
        tone = 0.4 * np.sin(2 * np.pi * 440.0 * np.arange(rate) / rate)
        audio = load_audio(write_wav(tmp_path / f"t{rate}.wav", tone, rate))
        assert abs(audio.size - SAMPLE_RATE) <= 64
        assert abs(dominant_hz(audio) - 440.0) < 2.0
        assert abs(np.abs(audio).max() - 0.4) < 0.02


def test_audio_and_video_of_different_lengths(make_av):
    path = make_av("uneven.mp4", seconds=2.0, audio_seconds=3.0)
    clip = load_clip(path)
    assert abs(clip.audio_seconds - 3.0) < 0.1
    assert abs(clip.duration - 3.0) < 0.1
    assert clip.timestamps[-1] < 2.05


def test_video_without_audio(make_av):
    clip = load_clip(make_av("silent.mp4", tone_hz=None))
    assert clip.has_video and not clip.has_audio and clip.audio.size == 0


def test_audio_only_file_has_no_frames(make_av):
    clip = load_clip(make_av("voice.m4a", video=False))
    assert not clip.has_video and clip.frames.shape[0] == 0
    assert abs(clip.audio_seconds - 2.0) < 0.1
    assert list(iter_frames(make_av("voice2.m4a", video=False), fps=5)) == []


def test_still_image_is_one_frame(tmp_path):
    import av

    path = tmp_path / "still.png"
    img = np.zeros((90, 160, 3), np.uint8)
    img[:, :80] = (255, 0, 0)
    with av.open(str(path), "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = 160, 90, "rgb24"
        for packet in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            c.mux(packet)
    clip = load_clip(path)
    assert clip.is_image and clip.frames.shape == (1, 90, 160, 3) and clip.duration == 0.0
    assert tuple(clip.frames[0, 45, 10]) == (255, 0, 0)
    assert len(list(iter_frames(path, fps=5))) == 1


def test_long_clip_refused_before_decoding(make_av):
    path = make_av("long.mp4", seconds=3.0)
    with pytest.raises(errors.ClipTooLongError, match="limit"):
        load_clip(path, config=MediaConfig(max_duration_s=1.0))
    with pytest.raises(errors.ClipTooLongError):
        list(iter_frames(path, fps=5, config=MediaConfig(max_duration_s=1.0)))


def test_clip_from_live_buffers_resamples_and_copies():
    frames = [np.full((48, 64, 3), i, np.uint8) for i in range(10)]
    mic = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48_000) / 48_000) * 32767).astype(np.int16)
    before = mic.copy()
    clip = clip_from_arrays(frames, np.arange(10) * 0.1 + 5.0, mic, 48_000)
    assert clip.frames.shape == (10, 48, 64, 3) and clip.timestamps[0] == 0.0
    assert abs(clip.audio_seconds - 1.0) < 0.01 and abs(dominant_hz(clip.audio) - 440) < 2
    assert np.array_equal(mic, before)
    stereo = np.stack([mic, mic], axis=1)
    assert resample_audio(stereo, 48_000).shape == (SAMPLE_RATE,)


def test_shared_clip_facts(media_dir):
    clip = load_clip(media_dir / "face_noface.mov")
    assert abs(clip.duration - 6.4) < 0.1 and clip.frame_size == (960, 540)
    assert len(clip.frames) == 8 and 3.5 < clip.audio_seconds < 4.5  # its audio track is shorter
    assert abs(clip.fps - 26.4) < 0.1
    image = load_clip(media_dir / "multi_face.jpg")
    assert image.is_image and len(image.frames) == 1 and not image.has_audio
    dense = list(iter_frames(media_dir / "WolfgangLanger_Pexels.mp4", fps=5))
    assert 95 <= len(dense) <= 100  # 19.7 s at 5 fps


# --- bad input -------------------------------------------------------------------------------------------

BROKEN_FILES = ("empty", "text_as_mp4", "random_bytes", "truncated_mp4", "broken_wav")


def test_bad_inputs_raise_typed_errors_and_stay_untouched(tmp_path):
    corpus = hostile_corpus(tmp_path)
    files = {kind: corpus[kind] for kind in BROKEN_FILES}
    hashes = {k: digest(p) for k, p in files.items()}
    for kind, path in files.items():
        with pytest.raises(errors.MediaError) as info:
            load_clip(path)
        message = str(info.value)
        assert path.name in message and "\n" not in message and message.endswith("."), (kind, message)
        assert digest(path) == hashes[kind]
    with pytest.raises(errors.MediaNotFoundError, match="does not exist"):
        load_clip(tmp_path / "missing.mp4")
    with pytest.raises(errors.MediaNotFoundError, match="directory"):
        load_clip(tmp_path)


def test_zero_length_clip(tmp_path):
    import av

    path = tmp_path / "zero.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
    with pytest.raises(errors.MediaError):
        load_clip(path)


def test_8k_frames_are_refused(tmp_path):
    path = write_av(
        tmp_path / "8k.mp4", seconds=0.08, fps=25, size=(7680, 4320), tone_hz=None, vcodec="mpeg4"
    )
    with pytest.raises(errors.FrameTooLargeError, match="7680x4320"):
        load_clip(path)
    small = load_clip(path, max_side=640, config=MediaConfig(max_pixels=8192 * 8192))
    assert small.frames.shape[1:] == (360, 640, 3) and small.frame_size == (7680, 4320)


def test_cli_probe_and_errors(tmp_path, make_av, capsys):
    path = make_av("probe.mp4", seconds=1.0)
    assert cli_main(["probe", str(path)]) == 0
    out = capsys.readouterr().out
    assert "duration_s" in out and "audio_sample_rate  16000" in out
    bad = tmp_path / "bad.mp4"
    bad.write_text("nope")
    assert cli_main(["probe", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni-emotion: error: ") and "Traceback" not in err and err.count("\n") == 1


def test_console_script_exit_code_without_traceback(tmp_path):
    exe = Path(sys.executable).with_name("omni-emotion")
    if not exe.exists():
        pytest.skip("the console script is not installed in this environment")
    result = subprocess.run([str(exe), "probe", str(tmp_path / "none.mov")], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "does not exist" in result.stderr
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env={**os.environ})
    assert version.returncode == 0 and version.stdout.startswith("omni-emotion ")


class _RecordingFaces:
    """Fake face analyzer: one track with a fixed box in the pixels of the frames it is given."""

    def __init__(self):
        self.sizes, self.regions = [], None

    def track(self, frames, speech_regions=None):
        frames = list(frames)
        self.sizes, self.regions = [f.shape[:2] for _, f in frames], speech_regions
        ts = np.array([t for t, _ in frames])
        box = np.tile([10, 20, 110, 140], (len(ts), 1)).astype(np.float32)
        return [FaceTrack(1, ts, box, np.ones(len(ts)), main=True)]


class _FixedSpeech:
    def vad(self, audio, sample_rate=16000):
        return [(0.2, 0.8)]

    def analyze(self, audio, sample_rate=16000, regions=None):
        return Transcript("hi", "en"), Prosody(description="calm", speech_regions=[(0.2, 0.8)])


def test_probe_faces_speech_pass_regions_and_report_source_pixels(make_av, monkeypatch, capsys):
    import omni_emotion.faces
    import omni_emotion.speech

    faces = _RecordingFaces()
    monkeypatch.setattr(omni_emotion.faces, "load_face_analyzer", lambda: faces)
    monkeypatch.setattr(omni_emotion.speech, "load_speech_analyzer", lambda: _FixedSpeech())
    path = make_av("wide.mp4", seconds=1.0, fps=10, size=(1280, 720))
    assert cli_main(["probe", str(path), "--faces", "--speech", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert faces.regions == [(0.2, 0.8)]
    assert faces.sizes and all(s == (360, 640) for s in faces.sizes)  # the tracker saw 640-px frames
    assert facts["faces"][0]["median_box_px"] == [20.0, 40.0, 220.0, 280.0]  # x2 back to 1280-px frames
    assert facts["faces"][0]["mean_face_px"] == 200.0
    assert facts["speech_regions"] == [[0.2, 0.8]] and facts["transcript"] == "hi"


@pytest.mark.parametrize("option", [["--frames", "0"], ["--fps", "0"], ["--max-duration", "-1"]])
def test_probe_bad_option_values_exit_2(make_av, capsys, option):
    path = make_av("opt.mp4", seconds=0.5)
    assert cli_main(["probe", str(path), *option]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omni-emotion: error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "{tmp}/none.mp4"], "does not exist"),
        (["analyze", "{tmp}/bad.mp4"], "not a readable"),
        (["weights", "init", "--llava", "{tmp}", "--whisper", "{tmp}", "--out", "{tmp}/o"], "no config.json"),
        (["weights", "init", "--llava", "{tmp}/none", "--whisper", "{tmp}/none"], "could not be downloaded"),
        (["eval", "--gt", "{tmp}/bad.mp4", "--videos", "{tmp}/none", "--wheels", "{tmp}"], "missing"),
    ],
)
def test_cli_user_errors_are_one_sentence_and_exit_2(tmp_path, capsys, argv, message):
    """Missing and corrupt inputs fail fast (before any model loads) with one line on stderr."""
    (tmp_path / "bad.mp4").write_text("not a video")
    assert cli_main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[-1].startswith("omni-emotion: error: ") and message in err[-1] and "Traceback" not in "".join(err)
    )
