"""A sounddevice (PortAudio) input stream that hands mono float32 chunks to a sink on PortAudio's thread."""

from __future__ import annotations

import logging
from typing import Any

from omni_emotion.desktop.sources import AUDIO_RATE, AudioSink
from omni_emotion.errors import DeviceUnavailableError

__all__ = ["Microphone", "check_microphone"]

logger = logging.getLogger(__name__)


def _sounddevice() -> Any:
    try:
        import sounddevice as sd
    except OSError as err:  # sounddevice loads the PortAudio library at import time
        raise DeviceUnavailableError(
            "The PortAudio library is missing: install it (Debian: apt-get install libportaudio2)."
        ) from err
    return sd


def check_microphone(device: int | str | None) -> dict[str, Any]:
    """The sounddevice description of the input ``device``, or DeviceUnavailableError."""
    sd = _sounddevice()
    try:
        return dict(sd.query_devices(device, kind="input"))
    except (ValueError, sd.PortAudioError) as err:
        raise DeviceUnavailableError(
            f"No microphone {device!r} found: connect one, pick it with --mic N or NAME, or run with --no-mic."
            if device is not None
            else "No microphone found: connect one, pick it with --mic N, or run with --no-mic."
        ) from err


class Microphone:
    """An opened input stream. 16 kHz mono when the device offers it, else its own rate (the live session
    resamples). ``close`` stops and releases the device."""

    def __init__(self, device: int | str | None, sink: AudioSink) -> None:
        sd = _sounddevice()
        info = check_microphone(device)
        self.name = str(info.get("name", device))
        self.overflows = 0

        def callback(indata, frames, time_info, status) -> None:  # PortAudio's thread
            if status.input_overflow:
                self.overflows += 1
            sink(indata[:, 0].copy(), self.rate)

        self.stream = None
        for rate in (AUDIO_RATE, int(info.get("default_samplerate") or 0)):
            if rate <= 0:
                continue
            try:
                self.stream = sd.InputStream(
                    device=device, channels=1, samplerate=rate, dtype="float32", callback=callback
                )
                self.rate = rate
                break
            except sd.PortAudioError as err:
                logger.info("microphone %s refused %d Hz: %s", self.name, rate, err)
        if self.stream is None:
            raise DeviceUnavailableError(f"The microphone {self.name!r} could not be opened for recording.")
        self.stream.start()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream.close()
            self.stream = None

    @property
    def closed(self) -> bool:
        return self.stream is None
