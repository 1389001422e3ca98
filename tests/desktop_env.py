"""A private X server and PulseAudio server for the desktop window's tests, and reading the X screen.

Both servers are Debian packages (xvfb, pulseaudio; xwd from x11-apps, xdotool for keys) that
scripts/install.sh installs when tests run. Each helper starts its server in a fresh folder, waits until it
answers, and stops it (by its own pid) on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

XWD_FIELDS = [
    "header_size",
    "file_version",
    "pixmap_format",
    "pixmap_depth",
    "pixmap_width",
    "pixmap_height",
    "xoffset",
    "byte_order",
    "bitmap_unit",
    "bitmap_bit_order",
    "bitmap_pad",
    "bits_per_pixel",
    "bytes_per_line",
    "visual_class",
    "red_mask",
    "green_mask",
    "blue_mask",
    "bits_per_rgb",
    "colormap_entries",
    "ncolors",
    "window_width",
    "window_height",
    "window_x",
    "window_y",
    "window_bdrwidth",
]


def missing(*binaries: str) -> str:
    """A skip reason naming the binaries that are not installed, or "" when all are."""
    absent = [b for b in binaries if shutil.which(b) is None]
    return f"{', '.join(absent)} not installed (bash scripts/install.sh --desktop)" if absent else ""


def read_xwd(data: bytes) -> np.ndarray:
    """An XWD dump of a TrueColor ZPixmap (what ``xwd -root`` writes for a 24-bit screen) as (H, W, 3) RGB.

    Layout: a header of 25 big-endian uint32 fields, the window name (to ``header_size``), ``ncolors``
    12-byte colour entries, then ``pixmap_height`` rows of ``bytes_per_line`` bytes, each pixel
    ``bits_per_pixel`` wide in ``byte_order`` (0 = least significant byte first) with the given masks."""
    if len(data) < 100:
        raise ValueError(f"an XWD file has a 100-byte header, got {len(data)} bytes")
    h = dict(zip(XWD_FIELDS, struct.unpack(">25I", data[:100])))
    if h["file_version"] != 7 or h["pixmap_format"] != 2:
        raise ValueError(
            f"only XWD version 7 ZPixmaps are read, got version {h['file_version']} format {h['pixmap_format']}"
        )
    bpp = h["bits_per_pixel"]
    if bpp not in (24, 32):
        raise ValueError(f"only 24 and 32 bits per pixel are read, got {bpp}")
    width, height, stride = h["pixmap_width"], h["pixmap_height"], h["bytes_per_line"]
    offset = h["header_size"] + h["ncolors"] * 12
    if len(data) < offset + stride * height:
        raise ValueError("the XWD file is truncated")
    rows = np.frombuffer(data, np.uint8, count=stride * height, offset=offset).reshape(height, stride)
    nbytes = bpp // 8
    pixels = rows[:, : width * nbytes].reshape(height, width, nbytes).astype(np.uint32)
    if h["byte_order"] == 0:
        value = sum(pixels[..., i] << (8 * i) for i in range(nbytes))
    else:
        value = sum(pixels[..., i] << (8 * (nbytes - 1 - i)) for i in range(nbytes))
    out = np.empty((height, width, 3), np.uint8)
    for channel, mask in enumerate((h["red_mask"], h["green_mask"], h["blue_mask"])):
        shift = (mask & -mask).bit_length() - 1
        out[..., channel] = ((value & mask) >> shift).astype(np.uint8)
    return out


def write_xwd(rgb: np.ndarray, *, bits_per_pixel: int = 32, byte_order: int = 0, pad_bytes: int = 0) -> bytes:
    """The inverse of ``read_xwd`` for tests: an XWD ZPixmap of an (H, W, 3) uint8 image."""
    height, width = rgb.shape[:2]
    nbytes = bits_per_pixel // 8
    stride = width * nbytes + pad_bytes
    value = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    rows = np.zeros((height, stride), np.uint8)
    order = range(nbytes) if byte_order == 0 else range(nbytes - 1, -1, -1)
    for position, i in enumerate(order):
        rows[:, position : width * nbytes : nbytes] = (value >> (8 * i)) & 0xFF
    name = b"test\0"
    header = dict.fromkeys(XWD_FIELDS, 0)
    header.update(
        header_size=100 + len(name),
        file_version=7,
        pixmap_format=2,
        pixmap_depth=24,
        pixmap_width=width,
        pixmap_height=height,
        byte_order=byte_order,
        bitmap_unit=32,
        bitmap_pad=32,
        bits_per_pixel=bits_per_pixel,
        bytes_per_line=stride,
        visual_class=4,
        red_mask=0xFF0000,
        green_mask=0xFF00,
        blue_mask=0xFF,
        bits_per_rgb=8,
        colormap_entries=256,
        window_width=width,
        window_height=height,
    )
    return struct.pack(">25I", *(header[f] for f in XWD_FIELDS)) + name + rows.tobytes()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class XServer:
    display: str

    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display}

    def screenshot(self) -> np.ndarray:
        """The whole screen now, as (H, W, 3) RGB, read from the X server with xwd."""
        out = subprocess.run(
            ["xwd", "-root", "-silent"],
            env={**os.environ, **self.env()},
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout
        return read_xwd(out)

    def window_ids(self, name: str) -> list[str]:
        done = subprocess.run(
            ["xdotool", "search", "--name", name],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return done.stdout.split()

    def key(self, window: str, keysym: str) -> None:
        """Send a key press to ``window`` (an id from ``window_ids``), as a user typing into it."""
        # without a window manager xdotool warns about the focus on every call: not worth showing
        subprocess.run(
            ["xdotool", "key", "--window", window, keysym],
            env={**os.environ, **self.env()},
            capture_output=True,
            timeout=10,
            check=True,
        )


@contextlib.contextmanager
def xvfb(folder: Path, size: str = "1280x720x24") -> Iterator[XServer]:
    """A private Xvfb; ``-displayfd`` lets it choose a free display number and tell us."""
    read_end, write_end = os.pipe()
    log = open(folder / "xvfb.log", "wb")  # noqa: SIM115 (the server's log, open while it runs)
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            number = pipe.readline().strip().decode()
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not start: {(folder / 'xvfb.log').read_text()[-500:]}")
        yield XServer(f":{number}")
    finally:
        _stop(process)


@dataclass
class PulseServer:
    folder: Path
    source: str

    def env(self) -> dict[str, str]:
        return {"PULSE_SERVER": f"unix:{self.folder / 'native'}", "PULSE_SOURCE": self.source}

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout


@contextlib.contextmanager
def pulseaudio(folder: Path, wav: Path, source: str = "wavmic") -> Iterator[PulseServer]:
    """A private PulseAudio server whose pipe source ``source`` (the default source) plays ``wav`` (16-bit
    mono) over and over in real time, as a microphone would deliver it."""
    with wave.open(str(wav), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        pcm = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{wav} must be 16-bit PCM")
    fifo = folder / "mic.fifo"
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(folder),
        "PULSE_RUNTIME_PATH": str(folder / "rt"),
    }
    env.pop("DISPLAY", None)
    log = open(folder / "pulse.log", "wb")  # noqa: SIM115 (the server's log, open while it runs)
    process = subprocess.Popen(
        [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--disable-shm=yes",
            "--use-pid-file=no",
            "-L",
            f"module-native-protocol-unix socket={folder / 'native'} auth-anonymous=1",
            "-L",
            f"module-pipe-source source_name={source} file={fifo} format=s16le rate={rate} channels={channels}",
            "-L",
            "module-null-sink",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    stop = threading.Event()
    server = PulseServer(folder, source)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {(folder / 'pulse.log').read_text()[-500:]}")
            try:
                if source in server.pactl("list", "short", "sources"):
                    break
            except subprocess.CalledProcessError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pulseaudio did not answer within 20 s")
            time.sleep(0.2)
        server.pactl("set-default-source", source)

        def feed() -> None:
            with contextlib.suppress(OSError):  # the server went away: the test is over
                _feed()

        def _feed() -> None:  # 20 ms at a time, paced, so the source runs at the speed of a real microphone
            chunk = rate * channels * 2 // 50
            with open(fifo, "wb", buffering=0) as pipe:
                started, sent = time.monotonic(), 0
                while not stop.is_set():
                    for i in range(0, len(pcm), chunk):
                        if stop.is_set():
                            return
                        pipe.write(pcm[i : i + chunk])
                        sent += chunk
                        ahead = sent / (rate * channels * 2) - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(ahead)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        yield server
    finally:
        stop.set()
        _stop(process)
