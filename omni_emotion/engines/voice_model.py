"""The learned voice reading: eGeMAPS functionals -> a calibrated likelihood over emotion families.

The speech field's standard baseline (Eyben et al., 2016: the 88 eGeMAPS functionals with a linear model),
fitted by ``bench/fit_voice.py`` on the team's dev recordings (acted German speech, five speakers) and
stored in ``data/voice_model.json`` with the data's checksum. Two views, as the issue of generalising asks:
- ``single``: one clip alone. Functionals that depend on the recording level (loudness means, percentiles
  and slopes, the equivalent sound level) are left out, so another microphone's gain cannot move the
  reading; the rest are standardised with the training speakers' pooled statistics.
- ``speaker``: when the same person's earlier speech is known (a live session's ``SpeakerVoice``), every
  functional is taken relative to that speaker's typical value first (per-speaker normalisation), which
  removes register and recording level.
Each view's logits are temperature-scaled on held-out speakers (leave-one-speaker-out inside the fit), so
its probabilities are calibrated there. Its output is evidence for the engine's posterior, never a label:
``VoiceEvidence.ratio`` divides out the training class balance, and ``weight`` shrinks it when the clip's
features lie far outside what the model was fitted on (a distance beyond the 95th percentile of held-out
speakers' distances), so an unfamiliar voice, corpus or recording says less instead of saying it loudly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from omni_emotion.engines.decision import DATA_DIR
from omni_emotion.types import VoiceProfile

__all__ = ["VOICE_MODEL_FILE", "VoiceEvidence", "VoiceModel", "load_voice_model"]

VOICE_MODEL_FILE = DATA_DIR / "voice_model.json"
MIN_SPEAKER_S = 15.0  # earlier speech before the speaker's own typical voice is trusted as a reference


@dataclass(frozen=True)
class VoiceView:
    """One fitted linear model: columns of the functionals it reads, their standardisation, weights."""

    columns: tuple[int, ...]
    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    coef: np.ndarray  # (K, D)
    intercept: np.ndarray  # (K,)
    temperature: float
    ood_distance: float  # 95th percentile of held-out speakers' RMS z-distance
    ratio_floor: float  # 1st percentile of the ratio held-out utterances' true family got

    def probabilities(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """(K,) calibrated class probabilities of functionals ``x`` (already centred for ``speaker``) and
        the RMS z-distance of ``x`` from the training data."""
        z = (np.nan_to_num(x[list(self.columns)]) - self.mean) / self.scale
        logits = (self.coef @ z + self.intercept) / self.temperature
        p = np.exp(logits - logits.max())
        return p / p.sum(), float(np.sqrt(np.mean(z**2)))


@dataclass(frozen=True)
class VoiceEvidence:
    """probabilities: family -> calibrated probability (the model's families); ratio: family -> probability
    over the training share (the likelihood ratio the posterior multiplies in); weight in (0, 1]: how much
    of it counts (1 inside the fitted range); view: "single" or "speaker"; distance: RMS z-distance;
    ratio_floor: the lowest ratio a family may be given (the model was rarely more wrong on held-out
    speakers), which the judgment applies."""

    probabilities: dict[str, float]
    ratio: dict[str, float]
    weight: float
    view: str
    distance: float
    ratio_floor: float = 0.0


class VoiceModel:
    """The fitted views and the families they name; build with ``load_voice_model``."""

    def __init__(self, raw: dict) -> None:
        self.families: tuple[str, ...] = tuple(raw["families"])
        self.feature_names: tuple[str, ...] = tuple(raw["feature_names"])
        self.train_share = np.asarray([raw["train_share"][f] for f in self.families], dtype=np.float64)
        self.views = {
            name: VoiceView(
                tuple(v["columns"]),
                np.asarray(v["mean"]),
                np.asarray(v["scale"]),
                np.asarray(v["coef"]),
                np.asarray(v["intercept"]),
                float(v["temperature"]),
                float(v["ood_distance"]),
                float(v["ratio_floor"]),
            )
            for name, v in raw["views"].items()
        }
        self.source: dict[str, str] = dict(raw["source"])

    def evidence(
        self, voice: VoiceProfile | None, speaker: VoiceProfile | None = None
    ) -> VoiceEvidence | None:
        """The voice's evidence, or None without functionals (too little voiced speech, or a hand-built
        profile). The speaker view is used once ``speaker`` holds at least MIN_SPEAKER_S of speech."""
        if voice is None or len(voice.functionals) != len(self.feature_names):
            return None
        x = np.asarray(voice.functionals, dtype=np.float64)
        view = "single"
        if (
            speaker is not None
            and speaker.speech_seconds >= MIN_SPEAKER_S
            and len(speaker.functionals) == len(self.feature_names)
        ):
            x = x - np.asarray(speaker.functionals, dtype=np.float64)
            view = "speaker"
        model = self.views[view]
        p, distance = model.probabilities(x)
        weight = min(1.0, (model.ood_distance / distance) ** 2) if distance > 0 else 1.0
        probabilities = {f: float(v) for f, v in zip(self.families, p)}
        ratio = {f: float(v / s) for f, v, s in zip(self.families, p, self.train_share)}
        return VoiceEvidence(probabilities, ratio, weight, view, distance, model.ratio_floor)


@cache
def load_voice_model(path: Path = VOICE_MODEL_FILE) -> VoiceModel:
    """The committed model (read once per process; it is package data)."""
    return VoiceModel(json.loads(Path(path).read_text(encoding="utf-8")))
