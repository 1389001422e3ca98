"""Voice-quality measurements for emotion: the eGeMAPS functionals that separate acted emotions.

eGeMAPS (Eyben et al., 2016, "The Geneva Minimalistic Acoustic Parameter Set") is the affective-computing
community's standard acoustic parameter set; openSMILE computes it (the `opensmile` wheel carries the
library and its configs, so it runs offline). Only the speech regions are measured: silences and
background between them would dilute every statistic. The result is a handful of named numbers with
units (``VoiceProfile``); turning them into emotion evidence is the engines' job (engines/voice_reading.py).
"""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np

from omni_emotion.speech.smile_native import EgemapsExtractor
from omni_emotion.types import SAMPLE_RATE, VoiceProfile

__all__ = ["SpeakerVoice", "VoiceMeter", "speech_audio"]

MIN_SPEECH_S = 0.5  # less voiced material gives unstable pitch and spectral statistics
MAX_SPEECH_S = 120.0  # a long clip's voice is measured on its first two minutes of speech: bounded cost
_REGION_PAD_S = 0.05  # keep word onsets and offsets that VAD trims tightly

# eGeMAPS functional name -> VoiceProfile field
_FEATURES = {
    "F0semitoneFrom27.5Hz_sma3nz_amean": "f0_mean_st",
    "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2": "f0_range_st",
    "alphaRatioV_sma3nz_amean": "alpha_ratio_db",
    "hammarbergIndexV_sma3nz_amean": "hammarberg_db",
    "HNRdBACF_sma3nz_amean": "hnr_db",
    "VoicedSegmentsPerSec": "voiced_segments_per_s",
    "MeanUnvoicedSegmentLength": "mean_unvoiced_s",
}


def speech_audio(
    audio: np.ndarray,
    regions: list[tuple[float, float]],
    sample_rate: int = SAMPLE_RATE,
    max_seconds: float = MAX_SPEECH_S,
) -> np.ndarray:
    """The speech regions of ``audio`` (S,) joined end to end (slightly padded), at most ``max_seconds``."""
    pad = int(_REGION_PAD_S * sample_rate)
    budget = int(max_seconds * sample_rate)
    pieces, total = [], 0
    for start, end in regions:
        a = max(0, int(start * sample_rate) - pad)
        b = min(audio.size, int(end * sample_rate) + pad, a + budget - total)
        if b > a:
            pieces.append(audio[a:b])
            total += b - a
        if total >= budget:
            break
    return np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)


class VoiceMeter:
    """Owns an openSMILE eGeMAPSv02 extractor (the library through its C API, smile_native.py); build once,
    then ``measure`` (about 0.1 s per 4 s of speech). A missing openSMILE fails here, at once."""

    def __init__(self) -> None:
        self._extractor = EgemapsExtractor()
        self._columns = {name: i for i, name in enumerate(self._extractor.feature_names)}

    def measure(
        self, audio: np.ndarray, regions: list[tuple[float, float]], sample_rate: int = SAMPLE_RATE
    ) -> VoiceProfile | None:
        """eGeMAPS numbers of the speech ``regions`` of mono float32 ``audio`` (S,); None when too little speech."""
        speech = speech_audio(np.asarray(audio, dtype=np.float32).reshape(-1), regions, sample_rate)
        if speech.size < MIN_SPEECH_S * sample_rate:
            return None
        row = self._extractor(speech, sample_rate)
        values = {field: float(row[self._columns[name]]) for name, field in _FEATURES.items()}
        if not np.isfinite(values["f0_mean_st"]) or values["f0_mean_st"] <= 0:
            return None  # no voiced frames: whisper, noise or music
        functionals = tuple(float(v) for v in np.nan_to_num(row.astype(np.float64)))
        return VoiceProfile(speech_seconds=speech.size / sample_rate, functionals=functionals, **values)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of ``VoiceProfile.functionals``, in order."""
        return self._extractor.feature_names


class SpeakerVoice:
    """One speaker's typical voice, learned from their earlier speech in a session (a live stream).

    Keeps the last ``max_profiles`` window profiles (bounded memory on an endless stream); ``typical`` is
    the median of each number, with ``speech_seconds`` the speech they cover. Live windows overlap, so each
    window counts only the speech it adds (``fresh_seconds``).
    """

    def __init__(self, max_profiles: int = 120) -> None:
        self._profiles: deque[VoiceProfile] = deque(maxlen=max_profiles)

    def add(self, profile: VoiceProfile | None, fresh_seconds: float | None = None) -> None:
        if profile is None:
            return
        counted = (
            profile.speech_seconds if fresh_seconds is None else min(profile.speech_seconds, fresh_seconds)
        )
        self._profiles.append(dataclasses.replace(profile, speech_seconds=max(0.0, counted)))

    def typical(self) -> VoiceProfile | None:
        """The median voice so far (None before any), its ``speech_seconds`` the total speech counted."""
        if not self._profiles:
            return None
        fields = [
            f.name
            for f in dataclasses.fields(VoiceProfile)
            if f.name not in ("speech_seconds", "functionals")
        ]
        medians = {name: float(np.median([getattr(p, name) for p in self._profiles])) for name in fields}
        rows = [p.functionals for p in self._profiles if p.functionals]
        width = {len(r) for r in rows}
        functionals = tuple(float(v) for v in np.median(np.array(rows), axis=0)) if len(width) == 1 else ()
        return VoiceProfile(
            speech_seconds=sum(p.speech_seconds for p in self._profiles), functionals=functionals, **medians
        )
