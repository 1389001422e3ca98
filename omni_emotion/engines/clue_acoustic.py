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

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.engines.voice_reading import CUES, PATTERNS, VoiceReading, read_voice
from omni_emotion.speech.prosody import ProsodyConfig
from omni_emotion.types import Prosody, VoiceProfile

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
    """Measured voice facts. ``facts`` maps a short key ("loud", "slow", ...) to a phrase with its number;
    ``reading`` is the population-norm reading of the voice (None with under half a second of voiced speech);
    ``arousal`` in [0, 1] comes from it."""

    has_speech: bool = False
    arousal: float | None = None
    facts: dict[str, str] = field(default_factory=dict)
    speech_seconds: float = 0.0
    reading: VoiceReading | None = None
    voice: VoiceProfile | None = None

    def has(self, *keys: str) -> bool:
        return any(k in self.facts for k in keys)


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
    speech_s = float(sum(e - s for s, e in p.speech_regions))
    if p.loudness_db >= config.loud_db:
        facts["loud"] = f"the voice is loud ({p.loudness_db:.0f} dBFS)"
    elif p.loudness_db <= config.quiet_db:
        facts["quiet"] = f"the voice is quiet ({p.loudness_db:.0f} dBFS)"
    if p.f0_median_hz is not None:
        if p.f0_min_hz and p.f0_max_hz:
            span = 12.0 * np.log2(p.f0_max_hz / p.f0_min_hz)
            if span >= config.wide_range_st:
                facts["animated"] = f"the pitch varies widely ({span:.0f} semitones)"
            elif span <= config.narrow_range_st:
                facts["monotone"] = f"the pitch is flat and monotone ({span:.0f} semitones)"
        slope = p.f0_slope_st_per_s
        if slope is not None and abs(slope) >= config.rising_st_per_s:
            key = "rising" if slope > 0 else "falling"
            facts[key] = f"the pitch is {key} ({slope:+.1f} semitones per second)"
        if p.f0_jitter is not None and p.f0_jitter >= config.unsteady_jitter:
            facts["trembling"] = f"the voice is unsteady, as if trembling ({100 * p.f0_jitter:.0f}% pitch jitter)"
    if p.speech_rate is not None:
        fast, slow = ((config.fast_syllables_per_s, config.slow_syllables_per_s)
                      if p.speech_rate_unit == "syllables/s" else (config.fast_words_per_s, config.slow_words_per_s))
        if p.speech_rate >= fast:
            facts["fast"] = f"the speech is fast ({p.speech_rate:.1f} {p.speech_rate_unit})"
        elif p.speech_rate <= slow:
            facts["slow"] = f"the speech is slow ({p.speech_rate:.1f} {p.speech_rate_unit})"
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
    reading = read_voice(p.voice, p.speaker) if p.voice is not None else None
    return AcousticClues(True, reading.arousal if reading else None, facts, speech_s, reading, p.voice)


_MIN_CUE_Z = 1.0  # a cue this far from the norm is worth saying


def _cue_phrase(cue: str, z: float, voice: VoiceProfile, register: str) -> str:
    """One voice cue, its direction and its measured number, in words."""
    high = z > 0
    if cue == "pitch":
        hz = 27.5 * 2.0 ** (voice.f0_mean_st / 12.0)
        return f"pitch {'high' if high else 'low'} for a {register}-register voice ({hz:.0f} Hz)"
    if cue == "range":
        return f"{'wide' if high else 'narrow, monotone'} pitch range ({voice.f0_range_st:.1f} semitones)"
    if cue == "tension":
        return f"{'tense, bright' if high else 'lax, soft'} voice (alpha ratio {voice.alpha_ratio_db:.1f} dB)"
    if cue == "clarity":
        return f"{'clear, ringing' if high else 'rough or breathy'} voice (HNR {voice.hnr_db:.1f} dB)"
    if cue == "tempo":
        return f"{'quick' if high else 'slow'} articulation ({voice.voiced_segments_per_s:.1f} voiced stretches/s)"
    return f"{'long' if high else 'short'} gaps inside speech (mean {1e3 * voice.mean_unvoiced_s:.0f} ms)"


def voice_evidence(clues: AcousticClues, family: str, limit: int = 2) -> list[str]:
    """The measured voice cues that point towards ``family``'s pattern (strongest first), in words."""
    if clues.reading is None or clues.voice is None:
        return []
    pattern = dict(zip(CUES, PATTERNS[family]))
    fitting = [(pattern[c] * z, c, z) for c, z in clues.reading.cues.items()
               if pattern[c] * z > 0 and abs(z) >= _MIN_CUE_Z]
    fitting.sort(reverse=True)
    return [_cue_phrase(c, z, clues.voice, clues.reading.register) for _, c, z in fitting[:limit]]


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
        return (f"The person speaks for about {clues.speech_seconds:.1f} s in {voice} voice{score}."
                + _reading_sentence(clues))
    body = "; ".join(clues.facts.values())
    level = f" Overall the voice sounds {overall} (arousal {clues.arousal:.2f})." if overall else ""
    return f"In the audio, {body}.{_reading_sentence(clues)}{level}"


_PATTERN_NAMES = {"anger": "anger", "joy": "joy", "fear": "fear", "sadness": "sadness", "boredom": "boredom",
                  "neutral": "a neutral voice"}


def _reading_sentence(clues: AcousticClues) -> str:
    """What the population-norm reading found, with the cues behind it; "" without a reading."""
    if clues.reading is None:
        return ""
    family, p = clues.reading.top
    why = voice_evidence(clues, family) if family != "neutral" else []
    because = f": {'; '.join(why)}" if why else ""
    own = (f" and with this speaker's own voice over {clues.reading.speaker_seconds:.0f} s of earlier speech"
           if clues.reading.speaker_seconds else "")
    return (f" Compared with typical adult voices of the {clues.reading.register} register{own}, the voice "
            f"fits the pattern of {_PATTERN_NAMES[family]} best ({p:.2f}){because}.")
