"""A transparent scorer that merges visual, acoustic and textual clues into 1 to 6 emotion labels.

Steps (every constant is named below and every label keeps the reasons that produced it):
1. Family evidence per modality. Face: the expression model's probabilities, each class divided by the
   square root of its share in FER2013's training set (a tempered label-shift correction: the model has
   seen 16x more happy than disgusted faces, and a full correction would blow up noise on rare classes);
   salience is the mean of the whole-track average and the strongest phase, so an emotion shown clearly
   for a third of the clip still counts. Text: explicit emotion words, similar lexicon words, valence.
2. Family score = visual + text evidence, with a small bonus when the voice's arousal fits the family.
   Negative families get a mild salience weight (negativity bias: people attend to and report negative
   displays more than positive ones of equal strength).
3. Families above an absolute and a relative threshold are kept (at most three); each gives its base word
   and, where a specific clue supports it, a nuanced word (sad + subdued voice or lowered head ->
   "dejected"; happy + activated voice -> "excited"; sad then happy -> "relieved"; negative words + smile ->
   "sarcastic"). Weak evidence everywhere gives "neutral" (and "calm" with a subdued voice).
4. Recovery arc: when the face is clearly negative at the beginning and clearly happy at the end (crying,
   then laughing), the negative family leads and "relieved" is added: relief is the resolution of a prior
   negative state, so that state is the clip's emotional event even if the smile lasts as long.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.engines.clue_acoustic import ACTIVATED, SUBDUED, AcousticClues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.expressions import FER_FAMILY, FER_LABELS
from omni_emotion.facial_actions import PHASES
from omni_emotion.lexicon import FAMILIES, lookup

__all__ = ["FusionConfig", "Label", "fuse", "visual_family_evidence"]

# FER2013 training-set class counts (public dataset statistics), in FER_LABELS order.
FER2013_COUNTS = np.array([3995, 436, 4097, 7215, 4830, 3171, 4965], dtype=np.float64)
BASE_WORD = {"joy": "happy", "sadness": "sad", "anger": "angry", "fear": "worried", "surprise": "surprised",
             "disgust": "disgusted", "contempt": "contemptuous", "neutral": "neutral"}
NEGATIVE = {"sadness", "anger", "fear", "disgust", "contempt"}
# Families whose typical displays are activated (voice loud, fast) vs subdued.
HIGH_AROUSAL = {"joy", "anger", "fear", "surprise"}
LOW_AROUSAL = {"sadness", "neutral"}


@dataclass(frozen=True)
class FusionConfig:
    """Weights and thresholds of the scorer (dimensionless; evidence is in [0, 1] per modality)."""

    visual_weight: float = 1.0
    text_weight: float = 0.8
    valence_weight: float = 0.4  # how much VADER valence adds to joy / the negative families
    arousal_bonus: float = 0.1  # added when the voice's arousal fits the family
    negativity_weight: float = 1.15
    prior_power: float = 0.5  # exponent of the FER2013 prior correction (0 = none, 1 = full)
    min_family: float = 0.18  # absolute score a family needs to give a label
    relative_family: float = 0.35  # ... and relative to the best family
    max_families: int = 3
    max_labels: int = 6

    def __post_init__(self) -> None:
        if not 1 <= self.max_labels <= 6:
            raise ValueError(f"max_labels must be in 1..6, got {self.max_labels}")
        if not 1 <= self.max_families <= self.max_labels:
            raise ValueError(f"max_families must be in 1..max_labels, got {self.max_families}")
        if not 0.0 <= self.prior_power <= 1.0:
            raise ValueError(f"prior_power must be in [0, 1], got {self.prior_power}")


@dataclass
class Label:
    """One output label with its score and the measured reasons behind it."""

    word: str
    family: str
    score: float
    evidence: list[str] = field(default_factory=list)


def visual_family_evidence(probs: np.ndarray, phases: np.ndarray, prior_power: float = 0.5) -> dict[str, float]:
    """Per-family salience in [0, 1] from (K, 7) probabilities and (3, 7) phase means (see module doc)."""
    if len(probs) == 0:
        return {f: 0.0 for f in FAMILIES}
    weights = (FER2013_COUNTS / FER2013_COUNTS.sum()) ** -prior_power

    def corrected(p: np.ndarray) -> np.ndarray:
        q = p * weights
        return q / q.sum(axis=-1, keepdims=True)

    mean = corrected(probs).mean(axis=0)
    peak = corrected(phases).max(axis=0)
    salience = 0.5 * (mean + peak)
    out = {f: 0.0 for f in FAMILIES}
    for label, value in zip(FER_LABELS, salience):
        out[FER_FAMILY[label]] = float(value)
    return out


def _text_family_evidence(text: TextualClues, cfg: FusionConfig) -> dict[str, float]:
    scores = text.family_scores()
    if text.valence is not None:
        if text.valence > 0:
            scores["joy"] += cfg.valence_weight * text.valence
        else:
            negative = {f: scores[f] for f in NEGATIVE}
            total = sum(negative.values())
            for f in ("sadness", "anger") if total == 0 else NEGATIVE:
                share = 0.5 if total == 0 else negative[f] / total
                scores[f] += cfg.valence_weight * -text.valence * share
    return scores


def fuse(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
         cfg: FusionConfig = FusionConfig()) -> list[Label]:
    """Labels, most salient first, each with its evidence; never empty."""
    vis = visual_family_evidence(visual.probs, visual.phases, cfg.prior_power)
    txt = _text_family_evidence(text, cfg)
    arousal = acoustic.arousal
    scores: dict[str, float] = {}
    reasons: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for fam in FAMILIES:
        s = cfg.visual_weight * vis[fam] + cfg.text_weight * txt[fam]
        if arousal is not None and ((fam in HIGH_AROUSAL and arousal >= ACTIVATED) or (fam in LOW_AROUSAL and arousal <= SUBDUED)):
            s += cfg.arousal_bonus
            reasons[fam].append(f"voice {'activated' if arousal >= ACTIVATED else 'subdued'} (arousal {arousal:.2f})")
        if fam in NEGATIVE:
            s *= cfg.negativity_weight
        scores[fam] = s
    _face_reasons(visual, reasons)
    _text_reasons(text, txt, reasons)
    arc = _recovery_arc(visual)
    if arc is not None:
        # Relief is the resolution of a prior negative state: the clip's emotional event is that state, and
        # the later smile is its resolution, so the negative family leads.
        scores[arc] = max(scores[arc], 1.05 * scores["joy"])
        reasons[arc].insert(0, "shown first, before the face turns happy")

    ranked = sorted((f for f in FAMILIES if f != "neutral"), key=lambda f: -scores[f])
    best = scores[ranked[0]]
    chosen = [f for f in ranked if scores[f] >= cfg.min_family and scores[f] >= cfg.relative_family * best]
    chosen = chosen[: cfg.max_families]
    if not chosen or scores["neutral"] > 1.5 * scores[chosen[0]]:
        chosen = ["neutral"] + chosen[: cfg.max_families - 1]

    labels: list[Label] = []
    for fam in chosen:
        labels.append(Label(BASE_WORD[fam], fam, scores[fam], reasons[fam] or ["weak evidence overall"]))
        labels.extend(_nuanced(fam, scores[fam], visual, acoustic, text, reasons[fam]))
    for word in text.explicit:  # what the person says they feel is kept, in the family's place
        entry = lookup(word)
        if entry is not None and all(lab.word != entry.word for lab in labels):
            labels.append(Label(entry.word, entry.family, scores[entry.family] + 0.05, [f'says "{word}"']))
    labels.sort(key=lambda lab: -lab.score)
    seen: set[str] = set()
    unique = [lab for lab in labels if not (lab.word in seen or seen.add(lab.word))]
    return unique[: cfg.max_labels]


def _recovery_arc(visual: VisualClues) -> str | None:
    """The negative family shown clearly at the beginning when the face is clearly happy at the end."""
    if not visual.has_face or len(visual.probs) < 3:
        return None
    (first, p_first), _, (last, p_last) = visual.phase_top()
    family = FER_FAMILY[first]
    if family in NEGATIVE and p_first >= 0.4 and last == "happy" and p_last >= 0.5:
        return family
    return None


def _face_reasons(visual: VisualClues, reasons: dict[str, list[str]]) -> None:
    if not visual.has_face:
        return
    mean = visual.probs.mean(axis=0)
    for i, label in enumerate(FER_LABELS):
        peak_phase = int(np.argmax(visual.phases[:, i]))
        if visual.phases[peak_phase, i] >= 0.2:
            where = ("beginning", "middle", "end")[peak_phase]
            reasons[FER_FAMILY[label]].append(
                f"face reads {label} (mean {mean[i]:.2f}, {visual.phases[peak_phase, i]:.2f} at the {where})")
    for fact in visual.actions:
        if fact.name == "mouth widened":
            reasons["joy"].append(f"mouth corners widen at the {fact.phase}")
        elif fact.name in ("head lowered", "face drops"):
            reasons["sadness"].append(f"{fact.name} at the {fact.phase}")


def _text_reasons(text: TextualClues, text_scores: dict[str, float], reasons: dict[str, list[str]]) -> None:
    for word in text.explicit:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(f'says "{word}"')
    for word, sim in text.similar:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(f'words close to "{word}" ({sim:.2f})')
    if text.valence is not None and abs(text.valence) >= 0.05:
        # cite the wording only where it added to the score (see _text_family_evidence)
        fams = ["joy"] if text.valence > 0 else [f for f in sorted(NEGATIVE) if text_scores.get(f, 0.0) > 0]
        for fam in fams:
            reasons[fam].append(f"wording {'positive' if text.valence > 0 else 'negative'} (VADER {text.valence:+.2f})")


def _measured_smile(visual: VisualClues) -> str:
    """How the face showed a smile, with its number, or "" when nothing measured one."""
    if not visual.has_face:
        return ""
    happy = FER_LABELS.index("happy")
    best = max(range(len(visual.phases)), key=lambda i: visual.phases[i][happy])
    if FER_LABELS[int(np.argmax(visual.phases[best]))] == "happy":
        return f"the face reads happy ({visual.phases[best][happy]:.2f} at the {PHASES[best]})"
    if any("smile" in fact.phrase for fact in visual.actions):
        return "the mouth corners widen as in a smile"
    return ""


def _nuanced(fam: str, score: float, visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
             base_reasons: list[str]) -> list[Label]:
    """Specific words the measured clues support, scored just below their family's base word."""
    out: list[Label] = []
    a = acoustic.arousal
    tops = [label for label, _ in visual.phase_top()] if visual.has_face else []

    def add(word: str, factor: float, why: str) -> None:
        out.append(Label(word, lookup(word).family, score * factor, [why, *base_reasons[:2]]))

    if fam == "sadness":
        if a is not None and a <= SUBDUED:
            add("dejected", 0.9, f"sad with a subdued voice (arousal {a:.2f})")
        elif any(f.name in ("head lowered", "face drops") for f in visual.actions):
            add("dejected", 0.85, "sad with the head lowered")
        if acoustic.has("trembling"):
            add("upset", 0.85, "sad with an unsteady voice")
    elif fam == "joy":
        if a is not None and a >= ACTIVATED:
            add("excited", 0.9, f"happy with an activated voice (arousal {a:.2f})")
        if _recovery_arc(visual) is not None:
            add("relieved", 0.8, f"face turns from {tops[0]} at the beginning to happy at the end")
        smile = _measured_smile(visual)
        if text.valence is not None and text.valence <= -0.3 and smile:
            add("sarcastic", 0.85, f"{smile} while the words are negative (VADER {text.valence:+.2f})")
    elif fam == "fear":
        if a is not None and a >= ACTIVATED:
            add("nervous", 0.9, f"worried with an activated voice (arousal {a:.2f})")
    elif fam == "anger":
        if a is not None and a >= 0.75 and acoustic.has("loud"):
            add("furious", 0.85, "angry with a loud, activated voice")
        elif score < 0.3:
            add("annoyed", 0.9, "mild anger")
    elif fam == "surprise":
        if text.valence is not None and text.valence <= -0.3:
            add("shocked", 0.85, f"surprised while the words are negative (VADER {text.valence:+.2f})")
    elif fam == "neutral":
        if a is not None and a <= SUBDUED:
            add("calm", 0.9, f"subdued, even voice (arousal {a:.2f})")
    return out
