"""What one utterance's voice says about emotion, against population norms (no earlier speech needed).

Decision rule, step by step (every number is a named constant below):
1. Cues. Six voice cues from the eGeMAPS numbers, each as a z-score against a norm for neutral adult
   speech: pitch level, pitch range, vocal tension (spectral balance: alpha ratio and Hammarberg index),
   clarity (harmonics-to-noise ratio), tempo (voiced stretches per second) and pausing (unvoiced stretch
   length). Only pitch level depends on the speaker's register.
2. Register. Adult voices sit in two registers (typical speaking F0 about 85-155 Hz for men, 165-255 Hz for
   women; Titze, "Principles of Voice Production", 1994), so a calm woman and an aroused man can share a
   pitch. The register is not guessed from pitch alone: each hypothesis gives its own pitch z-score and is
   weighed by how well the whole cue pattern fits it (a raised pitch must come with tension and tempo to
   read as arousal).
3. Patterns. Each family has a cue pattern taken from the reviews of vocal emotion expression (Banse &
   Scherer 1996; Juslin & Laukka 2003; Scherer 2003): anger = high pitch, tense and bright voice (most
   high-frequency energy), faster; joy = high pitch, wide range, clearer voice, less tension than anger;
   fear = high pitch with a narrower range, fast; sadness = low, narrow pitch, lax voice, slow with long
   pauses; boredom = low, monotone, slightly slow. An utterance's intensity is free: its cues are compared
   with ``a * pattern`` for the best ``a`` in [MIN_INTENSITY, MAX_INTENSITY], so a mild and a furious
   anger both fit anger. Neutral is the zero pattern; the others pay INTENSITY_PENALTY for their free
   intensity, so a voice near the norms reads neutral.
4. Posterior over (family, register) with equal priors, marginalised both ways. Arousal and valence follow
   from the cues and the family posterior.
5. The speaker's own voice, when there is enough of it (a live session): every norm moves towards this
   speaker's typical values from their earlier speech, up to SPEAKER_WEIGHT once SPEAKER_FULL_S of speech
   is known. Only a third of the way: a person who has been angry all along must not come to sound neutral.

Nothing here was fitted to data: norms are round typical values for neutral adult speech under eGeMAPS'
definitions, and the patterns' signs and rough sizes come from the reviews above. They were checked, not
tuned, on one speaker of EMO-DB (see bench/confusion.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni_emotion.types import VoiceProfile

__all__ = ["CUES", "PATTERNS", "REGISTERS", "VoiceReading", "cue_scores", "read_voice", "speaker_weight"]

CUES = ("pitch", "range", "tension", "clarity", "tempo", "pauses")
CUE_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.5, 0.5, 0.5])  # level cues are the most robust in the literature
# Typical neutral speaking pitch per register, semitones above 27.5 Hz (120 Hz and 210 Hz).
REGISTERS = {"lower": 25.5, "higher": 35.2}
PITCH_SD_ST = 2.5  # spread of neutral speaking pitch within a register
RANGE_NORM_ST, RANGE_SD_ST = 5.0, 1.5  # 20th-80th percentile pitch range of neutral speech
ALPHA_NORM_DB, ALPHA_SD_DB = -15.0, 3.0
HAMMARBERG_NORM_DB, HAMMARBERG_SD_DB = 25.0, 4.0
HNR_NORM_DB, HNR_SD_DB = 5.0, 1.5
TEMPO_NORM, TEMPO_SD = 3.5, 0.7  # voiced stretches per second
PAUSE_NORM_S, PAUSE_SD_S = 0.10, 0.04  # mean unvoiced stretch inside speech
Z_LIMIT = 6.0  # one wild measurement must not decide alone

# Cue patterns per family (order of CUES), in z units at intensity 1.
PATTERNS = {
    "anger": (1.5, 0.5, 1.5, -0.5, 0.5, -0.5),
    "joy": (1.5, 1.0, 0.5, 0.5, 0.5, -0.5),
    "fear": (2.0, -0.5, 0.75, 0.0, 1.0, -0.5),
    "sadness": (-0.5, -0.5, -1.0, -0.5, -1.0, 1.0),
    "boredom": (-0.5, -1.0, -0.5, 0.0, -0.5, 0.0),
    "neutral": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
}
MIN_INTENSITY, MAX_INTENSITY = 0.5, 3.0
INTENSITY_PENALTY = 1.0  # log-likelihood cost of the free intensity (one parameter)
VALENCE = {"anger": -0.6, "joy": 0.8, "fear": -0.6, "sadness": -0.7, "boredom": -0.3, "neutral": 0.0}
AROUSAL_WEIGHTS = {"pitch": 1.0, "tension": 1.0, "tempo": 0.5, "pauses": -0.5}
SPEAKER_MIN_S = 15.0  # earlier speech needed before the speaker's own voice counts at all
SPEAKER_FULL_S = 60.0
SPEAKER_WEIGHT = 1.0 / 3.0


@dataclass(frozen=True)
class VoiceReading:
    """families: posterior per pattern (sums to 1); register: "lower"/"higher", the one under which the
    likeliest family fits best, with the register's overall probability;
    cues: z-score per cue (pitch under the likelier register); arousal in [0, 1]; valence in [-1, 1];
    speaker_seconds: earlier speech of this speaker whose typical voice shifted the norms (0 = none)."""

    families: dict[str, float]
    register: str
    register_probability: float
    cues: dict[str, float]
    arousal: float
    valence: float
    speaker_seconds: float = 0.0

    @property
    def top(self) -> tuple[str, float]:
        family = max(self.families, key=self.families.__getitem__)
        return family, self.families[family]


def _values(voice: VoiceProfile) -> np.ndarray:
    """(7,) the measured numbers the cues read: pitch, range, alpha ratio, Hammarberg, HNR, tempo, pauses."""
    return np.array(
        [
            voice.f0_mean_st,
            voice.f0_range_st,
            voice.alpha_ratio_db,
            voice.hammarberg_db,
            voice.hnr_db,
            voice.voiced_segments_per_s,
            voice.mean_unvoiced_s,
        ],
        dtype=np.float64,
    )


def speaker_weight(speaker: VoiceProfile | None) -> float:
    """How much of each norm the speaker's typical voice replaces (0 without enough earlier speech)."""
    if speaker is None or speaker.speech_seconds < SPEAKER_MIN_S:
        return 0.0
    return SPEAKER_WEIGHT * min(1.0, speaker.speech_seconds / SPEAKER_FULL_S)


def cue_scores(voice: VoiceProfile, register: str, speaker: VoiceProfile | None = None) -> np.ndarray:
    """(6,) z-scores of the cues in CUES order for one register hypothesis, clipped to +-Z_LIMIT; with a
    ``speaker`` (their typical voice from earlier speech) the norms move towards it by ``speaker_weight``."""
    norms = np.array(
        [
            REGISTERS[register],
            RANGE_NORM_ST,
            ALPHA_NORM_DB,
            HAMMARBERG_NORM_DB,
            HNR_NORM_DB,
            TEMPO_NORM,
            PAUSE_NORM_S,
        ]
    )
    w = speaker_weight(speaker)
    if w > 0:
        norms = (1.0 - w) * norms + w * np.nan_to_num(_values(speaker), nan=0.0)
    d = _values(voice) - norms
    z = np.array(
        [
            d[0] / PITCH_SD_ST,
            d[1] / RANGE_SD_ST,
            0.5 * (d[2] / ALPHA_SD_DB - d[3] / HAMMARBERG_SD_DB),
            d[4] / HNR_SD_DB,
            d[5] / TEMPO_SD,
            d[6] / PAUSE_SD_S,
        ]
    )
    return np.clip(np.nan_to_num(z), -Z_LIMIT, Z_LIMIT)


def _fit(z: np.ndarray, pattern: np.ndarray) -> float:
    """Log-likelihood of cues ``z`` under ``a * pattern`` with the best intensity ``a`` (weighted squares)."""
    if not pattern.any():
        return float(-0.5 * np.sum(CUE_WEIGHTS * z**2))
    a = np.sum(CUE_WEIGHTS * z * pattern) / np.sum(CUE_WEIGHTS * pattern**2)
    a = float(np.clip(a, MIN_INTENSITY, MAX_INTENSITY))
    return float(-0.5 * np.sum(CUE_WEIGHTS * (z - a * pattern) ** 2) - INTENSITY_PENALTY)


def read_voice(voice: VoiceProfile, speaker: VoiceProfile | None = None) -> VoiceReading:
    """Family posterior, register, cue z-scores, arousal and valence of one utterance's voice; ``speaker``:
    the same person's typical voice from earlier speech, when known (see step 5 of the module doc)."""
    names = list(PATTERNS)
    registers = list(REGISTERS)
    z = {r: cue_scores(voice, r, speaker) for r in registers}
    loglik = np.array([[_fit(z[r], np.asarray(PATTERNS[f])) for f in names] for r in registers])  # (R, F)
    joint = np.exp(loglik - loglik.max())
    joint /= joint.sum()
    families = {f: float(p) for f, p in zip(names, joint.sum(axis=0))}
    by_register = joint.sum(axis=1)
    # The register reported (and the pitch cue said) is the one under which the likeliest family fits best,
    # so that "high pitch for a lower-register voice" and "anger" describe one consistent reading.
    best = int(np.argmax(joint[:, int(np.argmax(joint.sum(axis=0)))]))
    cues = {c: float(v) for c, v in zip(CUES, z[registers[best]])}
    pitch = float(np.dot(by_register, [z[r][0] for r in registers]))
    drive = sum(w * (pitch if c == "pitch" else cues[c]) for c, w in AROUSAL_WEIGHTS.items())
    drive /= sum(abs(w) for w in AROUSAL_WEIGHTS.values())
    arousal = float(1.0 / (1.0 + np.exp(-1.5 * drive)))
    valence = float(sum(families[f] * VALENCE[f] for f in names))
    speaker_s = speaker.speech_seconds if speaker_weight(speaker) > 0 else 0.0
    return VoiceReading(
        families, registers[best], float(by_register[best]), cues, arousal, valence, speaker_s
    )
