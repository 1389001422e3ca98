"""The engine's posterior over emotion families: a prior times each modality's likelihood ratio.

    posterior(f)  ∝  prior(f) * prod over modalities m of ratio_m(f) ** weight_m

``ratio_m(f)`` is what modality m's calibrated model says of family f divided by how common f was where that
model was trained (so a model fitted on balanced classes does not impose its balance), and ``weight_m`` in
[0, 1] is how far it is trusted (its reliability: the face's quality, how much speech there was, how far the
input lies from the model's training data). A modality with nothing to say about a family (a voice model
with no "surprise" class) leaves that family's ratio at 1. With no evidence the posterior is the prior.
This is log-linear opinion pooling under the usual conditional-independence assumption of naive Bayes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Evidence", "combine", "shift"]

_MIN_RATIO = 1e-4  # no single model may rule a family out entirely: one wrong reading must stay recoverable


@dataclass(frozen=True)
class Evidence:
    """One modality's say: ratio per family (missing families: 1) and the weight it is given."""

    modality: str
    ratio: Mapping[str, float]
    weight: float

    def log_ratio(self, family: str) -> float:
        r = float(self.ratio.get(family, 1.0))
        return self.weight * float(np.log(max(r, _MIN_RATIO)))


def combine(prior: Mapping[str, float], evidence: Sequence[Evidence]) -> dict[str, float]:
    """The normalised posterior over ``prior``'s families."""
    families = list(prior)
    log_p = np.array(
        [np.log(max(float(prior[f]), 1e-12)) + sum(e.log_ratio(f) for e in evidence) for f in families]
    )
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    return {f: float(v) for f, v in zip(families, p)}


def shift(prior: Mapping[str, float], posterior: Mapping[str, float], evidence: Evidence) -> dict[str, float]:
    """How far one modality moved each family, in log-probability units (its weighted log-ratio minus the
    average over the prior, so evidence that lifts every family equally moves nothing)."""
    mean = sum(float(prior[f]) * evidence.log_ratio(f) for f in prior)
    return {f: evidence.log_ratio(f) - mean for f in posterior}
