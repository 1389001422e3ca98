"""Hostile media a user (or a browser) may hand the app, written into a folder by the tests themselves.

Each maker writes one file (or special path) and returns it; ``hostile_corpus(folder)`` writes them all.
Nothing here is shared data: every input is generated, so the corpus needs no ../shared folder.
"""

from __future__ import annotations

import os
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from conftest import write_av, write_wav

__all__ = [
    "CORPUS",
    "FOLDER_CASES",
    "folder_cases",
    "garbled_mp4",
    "growing_h264",
    "growing_mjpeg_avi",
    "hdr_bomb",
    "hostile_corpus",
    "live_webm",
    "png_bomb",
    "raw_h264",
    "tiff_bomb",
]

# what hostile_corpus writes, by name: regular files first, then paths that are not regular files
CORPUS = (
    "empty",
    "text_as_mp4",
    "random_bytes",
    "truncated_mp4",
    "header_only_mp4",
    "broken_wav",
    "wav_named_mp4",
    "mp4_named_jpg",
    "garbled_mp4",
    "live_webm",
    "raw_h264",
    "png_bomb",
    "growing_h264",
    "growing_mjpeg",
    "tiff_bomb",
    "hdr_bomb",
    "control_chars_name",
    "symlink_loop",
    "dangling_symlink",
    "fifo",
    "directory",
    "missing",
)


def _frames(seconds: float, fps: int, size: tuple[int, int]):
    for i in range(int(round(seconds * fps))):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        img[..., 0] = (i * 7) % 256
        img[: size[1] // 2, : size[0] // 2, 1] = 200
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, fps)
        yield frame


def live_webm(path: Path, seconds: float = 2.0, fps: int = 25, size: tuple[int, int] = (320, 240)) -> Path:
    """A webm as a browser's MediaRecorder writes it (``live=1``): no duration, no cues, VP8 + Opus."""
    with av.open(str(path), "w", format="webm", options={"live": "1"}) as container:
        video = container.add_stream("libvpx", rate=fps)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        audio = container.add_stream("libopus", rate=48_000)
        audio.layout = "mono"
        for frame in _frames(seconds, fps, size):
            container.mux(video.encode(frame))
        container.mux(video.encode())
        total = int(seconds * 48_000)
        tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(total) / 48_000)).astype(np.float32)
        for start in range(0, total, 960):
            chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 960], format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts, chunk.time_base = 48_000, start, Fraction(1, 48_000)
            container.mux(audio.encode(chunk))
        container.mux(audio.encode())
    return path


def raw_h264(path: Path, seconds: float = 2.0, fps: int = 25, size: tuple[int, int] = (320, 240)) -> Path:
    """A raw H.264 elementary stream (``.h264``): no container, no timestamps, cannot seek."""
    with av.open(str(path), "w", format="h264") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        for frame in _frames(seconds, fps, size):
            container.mux(video.encode(frame))
        container.mux(video.encode())
    return path


def _h264_bytes(size: tuple[int, int], frames: int, fps: int = 25, refs: int = 1) -> bytes:
    """An Annex B H.264 stream of ``frames`` pictures at ``size``, starting with its own SPS and keyframe."""
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = *size, "yuv420p"
    codec.time_base = Fraction(1, fps)
    codec.options = {"preset": "ultrafast", "x264-params": f"ref={refs}:keyint={frames}"}
    out = bytearray()
    for frame in _frames(frames / fps, fps, size):
        out += b"".join(bytes(packet) for packet in codec.encode(frame))
    out += b"".join(bytes(packet) for packet in codec.encode(None))
    return bytes(out)


def growing_h264(
    path: Path,
    small: tuple[int, int] = (64, 48),
    large: tuple[int, int] = (4800, 3600),
    frames: int = 5,
    refs: int = 1,
) -> Path:
    """A raw ``.h264`` whose picture size changes partway: ``frames`` pictures at ``small`` (what a reader
    sees first), then ``frames`` at ``large``, a new SPS at a keyframe as a live encoder would send it."""
    path.write_bytes(_h264_bytes(small, frames) + _h264_bytes(large, frames, refs=refs))
    return path


def growing_mjpeg_avi(
    path: Path, small: tuple[int, int] = (64, 64), large: tuple[int, int] = (4800, 3600), frames: int = 3
) -> Path:
    """An MJPEG AVI whose stream declares ``small`` (its first frames) while later JPEG frames are
    ``large``: every MJPEG frame carries its own size, and nothing makes them agree."""
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = *small, "yuvj420p"
        big = av.CodecContext.create("mjpeg", "w")
        big.width, big.height, big.pix_fmt, big.time_base = *large, "yuvj420p", Fraction(1, 25)
        for frame in _frames(frames / 25, 25, small):
            for packet in stream.encode(frame):
                container.mux(packet)
        for i, frame in enumerate(_frames(frames / 25, 25, large)):
            for packet in big.encode(frame):
                packet.stream, packet.pts, packet.dts = stream, frames + i, frames + i
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def garbled_mp4(path: Path, good: Path) -> Path:
    """``good`` with its media data overwritten by noise: the container opens, no frame decodes."""
    data = bytearray(good.read_bytes())
    start = data.find(b"mdat") + 4
    size = int.from_bytes(data[start - 8 : start - 4], "big") - 8
    data[start : start + size] = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(path: Path, width: int = 16_000, height: int = 16_000) -> Path:
    """A 1 KB PNG declaring ``width`` x ``height`` 16-bit RGB pixels (only ten rows of data follow): ffmpeg
    would allocate the whole picture to probe it."""
    row = b"\0" * (1 + width * 6)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(row * 10, 9))
        + _png_chunk(b"IEND", b"")
    )
    return path


def tiff_bomb(path: Path, width: int = 16_000, height: int = 16_000) -> Path:
    """A 1 KB little-endian TIFF whose first directory declares ``width`` x ``height`` 8-bit RGB."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, 8),
        (277, 3, 1, 3),
        (278, 4, 1, height),
        (279, 4, 1, width * height * 3),
    ]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0" * 4
    path.write_bytes(b"II*\0" + struct.pack("<I", 8 + 1024) + b"\0" * 1024 + ifd)
    return path


def hdr_bomb(path: Path, width: int = 16_000, height: int = 16_000) -> Path:
    """A Radiance HDR declaring ``width`` x ``height`` float RGB, with a few bytes of pixels."""
    path.write_bytes(
        b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode() + b"\2\2\0\0" * 64
    )
    return path


def _special_paths(folder: Path) -> dict[str, Path]:
    """Paths that are not regular files: a symlink loop, a dangling link, a FIFO, a directory."""
    loop_a, loop_b = folder / "loop_a.mp4", folder / "loop_b.mp4"
    loop_a.symlink_to(loop_b.name)
    loop_b.symlink_to(loop_a.name)
    dangling = folder / "dangling.mp4"
    dangling.symlink_to("nowhere.mp4")
    fifo = folder / "pipe.mp4"
    os.mkfifo(fifo)
    directory = folder / "folder.mp4"
    directory.mkdir()
    return {
        "symlink_loop": loop_a,
        "dangling_symlink": dangling,
        "fifo": fifo,
        "directory": directory,
        "missing": folder / "missing.mp4",
    }


def hostile_corpus(folder: Path) -> dict[str, Path]:
    """Every hostile input by name. Regular files among them must come out of any command unchanged."""
    good = write_av(folder / "good.mp4", seconds=1.0)
    data = good.read_bytes()
    wav = write_wav(folder / "ok.wav", np.zeros(16_000), 16_000).read_bytes()
    files = {
        "empty": folder / "empty.mp4",
        "text_as_mp4": folder / "notes.mp4",
        "random_bytes": folder / "noise.mkv",
        "truncated_mp4": folder / "truncated.mp4",
        "header_only_mp4": folder / "header_only.mp4",
        "broken_wav": folder / "broken.wav",
        "wav_named_mp4": folder / "really_audio.mp4",
        "mp4_named_jpg": folder / "really_video.jpg",
    }
    files["empty"].write_bytes(b"")
    files["text_as_mp4"].write_text("this is a text file, not a video\n" * 20)
    files["random_bytes"].write_bytes(
        np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    )
    files["truncated_mp4"].write_bytes(data[: len(data) // 3])
    files["header_only_mp4"].write_bytes(data[:64])
    files["broken_wav"].write_bytes(b"RIFX" + wav[4:8] + b"JUNK" + wav[12:])
    files["wav_named_mp4"].write_bytes(wav)
    files["mp4_named_jpg"].write_bytes(data)
    files["garbled_mp4"] = garbled_mp4(folder / "garbled.mp4", good)
    files["live_webm"] = live_webm(folder / "recorded.webm")
    files["raw_h264"] = raw_h264(folder / "stream.h264")
    files["png_bomb"] = png_bomb(folder / "bomb.png")
    # 64x48 (or 64x64) first, then 4200x4100 (17.2 MP, just past the 16.8 MP limit) from a later frame
    files["growing_h264"] = growing_h264(folder / "grows.h264", large=(4200, 4100), frames=3)
    files["growing_mjpeg"] = growing_mjpeg_avi(folder / "grows.avi", large=(4200, 4100), frames=2)
    files["tiff_bomb"] = tiff_bomb(folder / "bomb.tiff")
    files["hdr_bomb"] = hdr_bomb(folder / "bomb.hdr")
    # a name that would set the terminal's title and clear the screen if printed raw
    files["control_chars_name"] = folder / "evil\x1b]0;pwned\x07\x1b[2J.mp4"
    files["control_chars_name"].write_bytes(data[:64])
    return files | _special_paths(folder)


# folder-job cases: (input folder, --out) pairs whose --out must be refused with the input left unchanged
FOLDER_CASES = ("junk_results", "out_is_input", "out_links_to_input")


def folder_cases(folder: Path) -> dict[str, tuple[Path, Path]]:
    """A folder holding one WAV of silence (its bytes after the header are valid UTF-8) and, by case, the
    ``--out`` to pass: a results file of binary junk, the WAV itself, a link elsewhere that leads to it."""
    clips = folder / "clips"
    clips.mkdir()
    wav = write_wav(clips / "clip.wav", np.zeros(8000), 16_000)
    junk = folder / "results.jsonl"
    junk.write_bytes(np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    link = folder / "linked.jsonl"
    link.symlink_to(wav)
    return {"junk_results": (clips, junk), "out_is_input": (clips, wav), "out_links_to_input": (clips, link)}
