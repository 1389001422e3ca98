"""Acoustic clues from the perception layer's prosody: level, pitch, pace, steadiness and pauses.

Adjective thresholds come from ``ProsodyConfig`` (the same words the speech module's own description
uses). Changes within the clip (louder towards the end, pitch falling) compare the speaker with their own
first half, which removes the recording level and the speaker's natural pitch from the comparison.
The result also carries an arousal estimate in [0, 1]: loud, fast, wide-ranging or unsteady speech is
activated; quiet, slow, monotone speech is subdued (vocal-arousal cues are among the most robust in the
speech-emotion literature; valence is much weaker in the voice and is not estimated here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.speech.prosody import ProsodyConfig
from omni_emotion.types import Prosody

__all__ = ["ACTIVATED", "SUBDUED", "AcousticClues", "acoustic_clues", "describe_acoustic"]

_LONG_PAUSE_S = 0.7
_CHANGE_DB = 3.0  # level change between halves that is audible
_CHANGE_ST = 1.5  # pitch change between halves, semitones
# Arousal in [0, 1] at or above which the voice is called activated, at or below which subdued; fusion uses
# the same two numbers so the explanation and the labels never disagree about the voice.
ACTIVATED = 0.65
SUBDUED = 0.3


@dataclass
class AcousticClues:
    """Measured voice facts. ``facts`` maps a short key ("loud", "slow", ...) to a phrase with its number."""

    has_speech: bool = False
    arousal: float | None = None
    facts: dict[str, str] = field(default_factory=dict)
    speech_seconds: float = 0.0

    def has(self, *keys: str) -> bool:
        return any(k in self.facts for k in keys)


def _scale(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


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
    """Turn prosody numbers into stated facts and an arousal estimate (None without usable speech)."""
    if not p.has_speech or p.loudness_db is None:
        return AcousticClues()
    facts: dict[str, str] = {}
    cues: list[float] = []
    speech_s = float(sum(e - s for s, e in p.speech_regions))
    if p.loudness_db >= config.loud_db:
        facts["loud"] = f"the voice is loud ({p.loudness_db:.0f} dBFS)"
    elif p.loudness_db <= config.quiet_db:
        facts["quiet"] = f"the voice is quiet ({p.loudness_db:.0f} dBFS)"
    cues.append(_scale(p.loudness_db, config.quiet_db, config.loud_db))
    if p.f0_median_hz is not None:
        if p.f0_min_hz and p.f0_max_hz:
            span = 12.0 * np.log2(p.f0_max_hz / p.f0_min_hz)
            if span >= config.wide_range_st:
                facts["animated"] = f"the pitch varies widely ({span:.0f} semitones)"
            elif span <= config.narrow_range_st:
                facts["monotone"] = f"the pitch is flat and monotone ({span:.0f} semitones)"
            cues.append(_scale(span, config.narrow_range_st, config.wide_range_st))
        slope = p.f0_slope_st_per_s
        if slope is not None and abs(slope) >= config.rising_st_per_s:
            key = "rising" if slope > 0 else "falling"
            facts[key] = f"the pitch is {key} ({slope:+.1f} semitones per second)"
        if p.f0_jitter is not None and p.f0_jitter >= config.unsteady_jitter:
            facts["trembling"] = f"the voice is unsteady, as if trembling ({100 * p.f0_jitter:.0f}% pitch jitter)"
            cues.append(1.0)
    if p.speech_rate is not None:
        fast, slow = ((config.fast_syllables_per_s, config.slow_syllables_per_s)
                      if p.speech_rate_unit == "syllables/s" else (config.fast_words_per_s, config.slow_words_per_s))
        if p.speech_rate >= fast:
            facts["fast"] = f"the speech is fast ({p.speech_rate:.1f} {p.speech_rate_unit})"
        elif p.speech_rate <= slow:
            facts["slow"] = f"the speech is slow ({p.speech_rate:.1f} {p.speech_rate_unit})"
        cues.append(_scale(p.speech_rate, slow, fast))
    long_pauses = [e - s for s, e in p.pauses if e - s >= _LONG_PAUSE_S]
    if long_pauses:
        facts["pauses"] = (f"there {'are' if len(long_pauses) > 1 else 'is'} {len(long_pauses)} long "
                           f"pause{'s' if len(long_pauses) > 1 else ''} (longest {max(long_pauses):.1f} s)")
    contour = p.contour or {}
    times = contour.get("time_s", [])
    level = _halves(times, contour.get("loudness_db", []), p.speech_regions)
    if level and abs(level[1] - level[0]) >= _CHANGE_DB:
        key = "louder" if level[1] > level[0] else "softer"
        facts[key] = f"the voice gets {key} in the second half ({level[1] - level[0]:+.0f} dB)"
    pitch = _halves(times, contour.get("f0_hz", []), p.speech_regions)
    if pitch:
        change = 12.0 * np.log2(pitch[1] / pitch[0])
        if abs(change) >= _CHANGE_ST:
            key = "higher" if change > 0 else "lower"
            facts[key] = f"the voice goes {key} in the second half ({change:+.1f} semitones)"
    return AcousticClues(True, float(np.mean(cues)) if cues else None, facts, speech_s)


def describe_acoustic(clues: AcousticClues, has_audio: bool) -> str:
    """The acoustic clue sentence(s); empty when there is no audio stream at all."""
    if not has_audio:
        return ""
    if not clues.has_speech:
        return "The audio contains no detectable speech."
    overall = ("" if clues.arousal is None else "activated" if clues.arousal >= ACTIVATED
               else "subdued" if clues.arousal <= SUBDUED else "")
    if not clues.facts:
        voice = f"an {overall}" if overall == "activated" else f"a {overall}" if overall else "an even, moderate"
        score = "" if clues.arousal is None else f" (arousal {clues.arousal:.2f})"
        return f"The person speaks for about {clues.speech_seconds:.1f} s in {voice} voice{score}."
    body = "; ".join(clues.facts.values())
    level = f" Overall the voice sounds {overall} (arousal {clues.arousal:.2f})." if overall else ""
    return f"In the audio, {body}.{level}"
