"""Acoustic clues from the perception layer's prosody and voice quality.

Two views of the voice:
- Against population norms (engines/voice_reading.py): one utterance is enough. The eGeMAPS numbers are
  compared with typical neutral adult voices of the speaker's likely register, giving the family pattern
  the voice fits, an arousal estimate in [0, 1] and a (weaker) valence estimate.
- Against the speaker's own earlier speech, when there is enough of it: in a live session the norms move
  towards the speaker's typical voice so far (``Prosody.speaker``), and changes within a clip (louder
  towards the end, pitch falling) compare the speaker with their own first half, which removes the
  recording level and the speaker's natural pitch from the comparison.
Adjective thresholds for the plain facts come from ``ProsodyConfig`` (the same words the speech module's
own description uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni_emotion.engines.voice_model import VoiceEvidence, load_voice_model
from omni_emotion.engines.voice_reading import CUES, PATTERNS, VoiceReading, read_voice
from omni_emotion.facts import Fact
from omni_emotion.speech.prosody import ProsodyConfig
from omni_emotion.types import Prosody, VoiceProfile

__all__ = ["ACTIVATED", "SUBDUED", "AcousticClues", "acoustic_clues", "voice_cues"]

_LONG_PAUSE_S = 0.7
_CHANGE_DB = 3.0  # level change between halves that is audible
_CHANGE_ST = 1.5  # pitch change between halves, semitones
# Arousal in [0, 1] at or above which the voice is called activated, at or below which subdued; fusion uses
# the same two numbers so the explanation and the labels never disagree about the voice.
ACTIVATED = 0.65
SUBDUED = 0.3


@dataclass
class AcousticClues:
    """Measured voice facts. ``facts``: voice facts named "loud", "slow", ... (see ``acoustic_clues``) with
    their numbers, in a fixed order; ``reading`` is the population-norm reading of the voice (None with under
    half a second of voiced speech); ``arousal`` in [0, 1] comes from it; ``model`` is the learned voice
    model's calibrated evidence (engines/voice_model.py), what the judgment decides on."""

    has_speech: bool = False
    arousal: float | None = None
    facts: tuple[Fact, ...] = ()
    speech_seconds: float = 0.0
    reading: VoiceReading | None = None
    voice: VoiceProfile | None = None
    model: VoiceEvidence | None = None

    def has(self, *names: str) -> bool:
        return any(fact.name in names for fact in self.facts)

    def fact(self, name: str) -> Fact | None:
        return next((fact for fact in self.facts if fact.name == name), None)


def _halves(
    times: list[float], values: list[float], regions: list[tuple[float, float]]
) -> tuple[float, float] | None:
    """Median of the valid values in the first and second half of a contour, inside speech regions only.

    The contour covers every frame, silences too: level and pitch outside speech are background, not voice.
    """
    t = np.asarray(times, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if t.size != v.size:
        return None
    in_speech = np.zeros(t.size, dtype=bool)
    for start, end in regions:
        in_speech |= (t >= start) & (t <= end)
    ok = np.isfinite(v) & (v != 0.0) & in_speech
    if ok.sum() < 6:
        return None
    t, v = t[ok], v[ok]
    mid = (t[0] + t[-1]) / 2.0
    first, second = v[t <= mid], v[t > mid]
    if len(first) < 3 or len(second) < 3:
        return None
    return float(np.median(first)), float(np.median(second))


def acoustic_clues(p: Prosody, config: ProsodyConfig = ProsodyConfig()) -> AcousticClues:
    """Turn prosody numbers into voice facts and an arousal estimate (None without usable speech).

    Facts, in this order: "loud" / "quiet" (level, dBFS), "animated" / "monotone" (pitch span, semitones),
    "rising" / "falling" (pitch slope, semitones per second), "trembling" (pitch jitter, fraction), "fast" /
    "slow" (speech rate in ``unit``), "pauses" (longest long pause, s; its ``count``), "louder" / "softer"
    (level change of the second half, dB), "higher" / "lower" (pitch change of the second half, semitones).
    """
    if not p.has_speech or p.loudness_db is None:
        return AcousticClues()
    facts: list[Fact] = []

    def state(name: str, value: float, unit: str = "", **more: float) -> None:
        facts.append(Fact("voice", name, float(value), unit=unit, more=tuple(more.items())))

    speech_s = float(sum(e - s for s, e in p.speech_regions))
    if p.loudness_db >= config.loud_db:
        state("loud", p.loudness_db)
    elif p.loudness_db <= config.quiet_db:
        state("quiet", p.loudness_db)
    if p.f0_median_hz is not None:
        if p.f0_min_hz and p.f0_max_hz:
            span = 12.0 * np.log2(p.f0_max_hz / p.f0_min_hz)
            if span >= config.wide_range_st:
                state("animated", span)
            elif span <= config.narrow_range_st:
                state("monotone", span)
        slope = p.f0_slope_st_per_s
        if slope is not None and abs(slope) >= config.rising_st_per_s:
            state("rising" if slope > 0 else "falling", slope)
        if p.f0_jitter is not None and p.f0_jitter >= config.unsteady_jitter:
            state("trembling", p.f0_jitter)
    if p.speech_rate is not None:
        fast, slow = (
            (config.fast_syllables_per_s, config.slow_syllables_per_s)
            if p.speech_rate_unit == "syllables/s"
            else (config.fast_words_per_s, config.slow_words_per_s)
        )
        if p.speech_rate >= fast:
            state("fast", p.speech_rate, p.speech_rate_unit)
        elif p.speech_rate <= slow:
            state("slow", p.speech_rate, p.speech_rate_unit)
    long_pauses = [e - s for s, e in p.pauses if e - s >= _LONG_PAUSE_S]
    if long_pauses:
        state("pauses", max(long_pauses), count=len(long_pauses))
    contour = p.contour or {}
    times = contour.get("time_s", [])
    level = _halves(times, contour.get("loudness_db", []), p.speech_regions)
    if level and abs(level[1] - level[0]) >= _CHANGE_DB:
        state("louder" if level[1] > level[0] else "softer", level[1] - level[0])
    pitch = _halves(times, contour.get("f0_hz", []), p.speech_regions)
    if pitch:
        change = 12.0 * np.log2(pitch[1] / pitch[0])
        if abs(change) >= _CHANGE_ST:
            state("higher" if change > 0 else "lower", change)
    reading = read_voice(p.voice, p.speaker) if p.voice is not None else None
    model = load_voice_model().evidence(p.voice, p.speaker)
    return AcousticClues(
        True, reading.arousal if reading else None, tuple(facts), speech_s, reading, p.voice, model
    )


_MIN_CUE_Z = 1.0  # a cue this far from the norm is worth saying


def _cue_value(cue: str, voice: VoiceProfile) -> float:
    """The measured number behind a cue, in the unit explain.py names for it."""
    if cue == "pitch":
        return 27.5 * 2.0 ** (voice.f0_mean_st / 12.0)  # Hz
    return {
        "range": voice.f0_range_st,
        "tension": voice.alpha_ratio_db,
        "clarity": voice.hnr_db,
        "tempo": voice.voiced_segments_per_s,
        "pauses": 1e3 * voice.mean_unvoiced_s,
    }[cue]


def voice_cues(clues: AcousticClues, family: str, limit: int = 2) -> list[Fact]:
    """The measured voice cues that point towards ``family``'s pattern, strongest first: "cue" facts about
    the cue, valued in its measured number, with its z-score and (``where``) the voice register."""
    if clues.reading is None or clues.voice is None or family not in PATTERNS:
        return []  # no reading, or a family the population-norm patterns do not describe (disgust)
    pattern = dict(zip(CUES, PATTERNS[family]))
    fitting = [
        (pattern[c] * z, c, z)
        for c, z in clues.reading.cues.items()
        if pattern[c] * z > 0 and abs(z) >= _MIN_CUE_Z
    ]
    fitting.sort(reverse=True)
    return [
        Fact(
            "voice",
            "cue",
            _cue_value(c, clues.voice),
            about=c,
            where=clues.reading.register,
            more=(("z", z),),
        )
        for _, c, z in fitting[:limit]
    ]
