"""A transparent scorer that merges visual, acoustic and textual clues into 1 to 6 emotion labels.

The decision rule (every constant is named below; every label keeps the measured reasons behind it):
1. Evidence per family and modality, each in [0, 1].
   Face: the expression model's probabilities, each class divided by the square root of its share in
   FER2013's training set (a tempered label-shift correction: the model has seen 16x more happy than
   disgusted faces), salience = mean of the whole-track average and the strongest phase, times the face's
   quality (size, frontality, sharpness, detector score: a small, turned, blurred face says less).
   Voice: the population-norm reading's posterior per pattern (voice_reading.py), times how much speech
   it rests on. Boredom is a voice pattern of its own; it labels "bored".
   Words: explicit emotion words, similar lexicon words, and the wording's valence; a machine translation
   counts TRANSLATED_WORDS as much (its word choice is the translator's, and it errs).
2. Family score = the weighted sum over modalities.
3. Neutral only when the clues sit near the norm: the best family scores under MIN_FAMILY, or the face's
   and voice's neutral evidence is NEUTRAL_DOMINANCE times the best family's score.
4. The label set follows the evidence. The best family always gives its base word. Another family joins
   when it scores at least SUPPORT_RATIO of the best (so one dominant family gives few labels and several
   supported families give more), at most ``max_families``. A family of the opposite valence joins only
   with its own distinct evidence: a change over time on the face (sad, then happy), or a modality of its
   own (the face smiles while the words are negative), never the same clue read two ways.
5. Specific words: a family's more specific word ("furious", "dejected", "relieved", "sarcastic", ...)
   is added only when a measured clue specific to it is present, and only for the leading family when
   several families are named (and for joy in a recovery arc, whose specific clue is the arc). Words the
   person says about their own feeling are kept (in their own language's words, not a translation's).
6. Recovery arc: when the face is clearly negative at the beginning and clearly happy at the end (crying,
   then laughing), the negative family leads and "relieved" is added: relief is the resolution of a prior
   negative state, so that state is the clip's emotional event even if the smile lasts as long.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.engines.clue_acoustic import ACTIVATED, SUBDUED, AcousticClues, voice_evidence
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.expressions import FER_FAMILY, FER_LABELS
from omni_emotion.facial_actions import PHASES
from omni_emotion.lexicon import FAMILIES, lookup

__all__ = ["NEAR_NORM", "FusionConfig", "Label", "fuse", "visual_family_evidence"]

# FER2013 training-set class counts (public dataset statistics), in FER_LABELS order.
FER2013_COUNTS = np.array([3995, 436, 4097, 7215, 4830, 3171, 4965], dtype=np.float64)
# What the scorer ranks: the lexicon's families plus boredom, which the voice can show but the face cannot.
SCORED = (*FAMILIES, "boredom")
BASE_WORD = {"joy": "happy", "sadness": "sad", "anger": "angry", "fear": "worried", "surprise": "surprised",
             "disgust": "disgusted", "contempt": "contemptuous", "neutral": "neutral", "boredom": "bored"}
NEGATIVE = {"sadness", "anger", "fear", "disgust", "contempt", "boredom"}
POSITIVE = {"joy"}
TRANSLATED_WORDS = 0.5
FULL_VOICE_S = 1.5  # seconds of speech at which the voice reading counts fully
MODALITIES = ("face", "voice", "words")
NEAR_NORM = "the clues sit near the norm"  # the evidence of a neutral label that nothing measured supports


@dataclass(frozen=True)
class FusionConfig:
    """Weights and thresholds of the scorer (dimensionless; evidence is in [0, 1] per modality)."""

    visual_weight: float = 1.0
    voice_weight: float = 1.0
    text_weight: float = 0.8
    valence_weight: float = 0.4  # how much the wording's valence adds to joy / the negative families
    prior_power: float = 0.5  # exponent of the FER2013 prior correction (0 = none, 1 = full)
    min_family: float = 0.25  # score the best family needs before anything but neutral is said
    neutral_dominance: float = 1.5  # neutral evidence this many times the best family's score -> neutral
    support_ratio: float = 0.6  # another family joins at this fraction of the best family's score
    distinct_min: float = 0.15  # a modality's contribution that counts as a family's own evidence
    max_families: int = 3
    max_labels: int = 6

    def __post_init__(self) -> None:
        if not 1 <= self.max_labels <= 6:
            raise ValueError(f"max_labels must be in 1..6, got {self.max_labels}")
        if not 1 <= self.max_families <= self.max_labels:
            raise ValueError(f"max_families must be in 1..max_labels, got {self.max_families}")
        if not 0.0 <= self.prior_power <= 1.0:
            raise ValueError(f"prior_power must be in [0, 1], got {self.prior_power}")
        if not 0.0 < self.support_ratio <= 1.0:
            raise ValueError(f"support_ratio must be in (0, 1], got {self.support_ratio}")


@dataclass
class Label:
    """One output label with its score and the measured reasons behind it (``family``: a lexicon family)."""

    word: str
    family: str
    score: float
    evidence: list[str] = field(default_factory=list)


def visual_family_evidence(probs: np.ndarray, phases: np.ndarray, prior_power: float = 0.5,
                           weights: np.ndarray | None = None) -> dict[str, float]:
    """Per-family salience in [0, 1] from (K, 7) probabilities, (3, 7) phase means and optional (K,) frame
    weights (see module doc)."""
    if len(probs) == 0:
        return {f: 0.0 for f in FAMILIES}
    prior_correction = (FER2013_COUNTS / FER2013_COUNTS.sum()) ** -prior_power

    def corrected(p: np.ndarray) -> np.ndarray:
        q = p * prior_correction
        return q / q.sum(axis=-1, keepdims=True)

    mean = np.average(corrected(probs), axis=0, weights=weights)
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
            negative = {f: scores[f] for f in NEGATIVE if f in scores}
            total = sum(negative.values())
            for f in ("sadness", "anger") if total == 0 else negative:
                share = 0.5 if total == 0 else negative[f] / total
                scores[f] += cfg.valence_weight * -text.valence * share
    return scores


def _voice_family_evidence(acoustic: AcousticClues) -> dict[str, float]:
    """The voice reading's posterior per scored family, scaled by how much speech it rests on."""
    out = {f: 0.0 for f in SCORED}
    if acoustic.reading is None:
        return out
    reliability = min(1.0, acoustic.speech_seconds / FULL_VOICE_S)
    for family, p in acoustic.reading.families.items():
        out[family] = reliability * p
    return out


def _evidence(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
              cfg: FusionConfig) -> dict[str, dict[str, float]]:
    """Weighted contribution of each modality to each scored family: {family: {modality: value}}."""
    vis = visual_family_evidence(visual.probs, visual.phases, cfg.prior_power, visual.weights)
    voice = _voice_family_evidence(acoustic)
    txt = _text_family_evidence(text, cfg)
    text_weight = cfg.text_weight * (TRANSLATED_WORDS if text.translation else 1.0)
    return {f: {"face": cfg.visual_weight * visual.quality * vis.get(f, 0.0),
                "voice": cfg.voice_weight * voice[f],
                "words": text_weight * txt.get(f, 0.0)} for f in SCORED}


def fuse(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
         cfg: FusionConfig = FusionConfig()) -> list[Label]:
    """Labels, most salient first, each with its evidence; never empty."""
    evidence = _evidence(visual, acoustic, text, cfg)
    scores = {f: sum(parts.values()) for f, parts in evidence.items()}
    reasons = _reasons(visual, acoustic, text, evidence)
    arc = _recovery_arc(visual)
    if arc is not None:
        scores[arc] = max(scores[arc], 1.05 * scores["joy"])
        reasons[arc].insert(0, "shown first, before the face turns happy")

    chosen = _choose_families(scores, evidence, arc, cfg)
    labels: list[Label] = []
    for fam in chosen:
        labels.append(_base_label(fam, scores[fam], reasons[fam]))
        if fam == chosen[0] or (arc is not None and fam == "joy"):  # the arc is joy's own specific clue
            labels.extend(_nuanced(fam, scores[fam], visual, acoustic, text, reasons[fam]))
    for word in [] if text.translation else text.explicit:  # what the person says they feel is kept
        entry = lookup(word)
        if entry is not None and all(lab.word != entry.word for lab in labels):
            labels.append(Label(entry.word, entry.family, scores[entry.family] + 0.05, [f'says "{word}"']))
    labels.sort(key=lambda lab: -lab.score)
    seen: set[str] = set()
    unique = [lab for lab in labels if not (lab.word in seen or seen.add(lab.word))]
    return unique[: cfg.max_labels]


def _choose_families(scores: dict[str, float], evidence: dict[str, dict[str, float]], arc: str | None,
                     cfg: FusionConfig) -> list[str]:
    """The families to name, best first (steps 3 and 4 of the module's rule)."""
    ranked = sorted((f for f in SCORED if f != "neutral"), key=lambda f: -scores[f])
    best = ranked[0]
    neutral = evidence["neutral"]["face"] + evidence["neutral"]["voice"]
    if scores[best] < cfg.min_family or neutral >= cfg.neutral_dominance * scores[best]:
        return ["neutral"]
    chosen = [best]
    for fam in ranked[1:]:
        if len(chosen) == cfg.max_families:
            break
        if scores[fam] < max(cfg.min_family, cfg.support_ratio * scores[best]):
            break
        if _opposed(fam, best) and not (arc in (fam, best) or _has_own_evidence(fam, best, evidence, cfg)):
            continue
        chosen.append(fam)
    return chosen


def _opposed(a: str, b: str) -> bool:
    return (a in POSITIVE and b in NEGATIVE) or (a in NEGATIVE and b in POSITIVE)


def _has_own_evidence(fam: str, best: str, evidence: dict[str, dict[str, float]], cfg: FusionConfig) -> bool:
    """True when ``fam`` rests on a modality that gives the best family little: distinct evidence."""
    return any(evidence[fam][m] >= cfg.distinct_min and evidence[best][m] < cfg.distinct_min
               for m in MODALITIES)


def _base_label(fam: str, score: float, reasons: list[str]) -> Label:
    word = BASE_WORD[fam]
    entry = lookup(word)
    return Label(word, entry.family if entry else fam, score, reasons or [NEAR_NORM])


def _recovery_arc(visual: VisualClues) -> str | None:
    """The negative family shown clearly at the beginning when the face is clearly happy at the end."""
    if not visual.has_face or len(visual.probs) < 3:
        return None
    (first, p_first), _, (last, p_last) = visual.phase_top()
    family = FER_FAMILY[first]
    if family in NEGATIVE and p_first >= 0.4 and last == "happy" and p_last >= 0.5:
        return family
    return None


def _reasons(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
             evidence: dict[str, dict[str, float]]) -> dict[str, list[str]]:
    """Per scored family, the measured clues that point to it specifically."""
    reasons: dict[str, list[str]] = {f: [] for f in SCORED}
    _face_reasons(visual, reasons)
    _voice_reasons(acoustic, reasons)
    _text_reasons(text, evidence, reasons)
    return reasons


def _face_reasons(visual: VisualClues, reasons: dict[str, list[str]]) -> None:
    if not visual.has_face:
        return
    mean = visual.weighted_mean()
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


_VOICE_MIN_P = 0.15  # a voice pattern this likely is worth citing for its family


def _voice_reasons(acoustic: AcousticClues, reasons: dict[str, list[str]]) -> None:
    if acoustic.reading is None:
        return
    for family, p in acoustic.reading.families.items():
        if p >= _VOICE_MIN_P:
            cues = voice_evidence(acoustic, family) if family != "neutral" else []
            reasons[family].append(f"voice fits {family} ({p:.2f})" + (f": {', '.join(cues)}" if cues else ""))


def _text_reasons(text: TextualClues, evidence: dict[str, dict[str, float]], reasons: dict[str, list[str]]) -> None:
    said = "the translation says" if text.translation else "says"
    for word in text.explicit:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(f'{said} "{word}"')
    for word, sim in text.similar:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(f'words close to "{word}" ({sim:.2f})')
    if text.valence is not None and abs(text.valence) >= 0.05:
        # cite the wording only where it added to the score (see _text_family_evidence)
        fams = ["joy"] if text.valence > 0 else [f for f in sorted(NEGATIVE) if evidence[f]["words"] > 0]
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
    if any(fact.name == "mouth widened" for fact in visual.actions):
        return "the mouth corners widen as in a smile"
    return ""


_FURIOUS_AROUSAL = 0.85  # anger this activated in the voice reads as fury
_MILD_ANGER = 0.3


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
        if a is not None and a >= _FURIOUS_AROUSAL and acoustic.reading is not None \
                and acoustic.reading.cues["tension"] >= 2.0:
            add("furious", 0.85, f"angry with a very tense, activated voice (arousal {a:.2f})")
        elif score < _MILD_ANGER:
            add("annoyed", 0.9, "mild anger")
    elif fam == "surprise":
        if text.valence is not None and text.valence <= -0.3:
            add("shocked", 0.85, f"surprised while the words are negative (VADER {text.valence:+.2f})")
    elif fam == "neutral":
        if a is not None and a <= SUBDUED:
            add("calm", 0.9, f"subdued, even voice (arousal {a:.2f})")
    return out
