"""A transparent scorer that merges visual, acoustic and textual clues into 1 to 6 emotion labels.

The decision rule (every constant is a field of ``FusionConfig``, named here in capitals; every label keeps
the measured facts behind it, which explain.py words):
1. Evidence per family and modality, each in [0, 1].
   Face: the expression model's probabilities, each class divided by its share in FER2013's training set
   to the power PRIOR_POWER (the square root: a tempered label-shift correction, as the model has seen 16x
   more happy than disgusted faces), salience = mean of the whole-track average and the strongest phase,
   times the face's quality (size, frontality, sharpness, detector score: a small, turned, blurred face
   says less).
   Voice: the population-norm reading's posterior per pattern (voice_reading.py), times how much speech
   it rests on (fully from FULL_VOICE_S seconds). Boredom is a voice pattern of its own; it labels "bored".
   Words: explicit emotion words, similar lexicon words, and the wording's valence (VALENCE_WEIGHT of it
   goes to joy, or to the negative families in proportion to their word evidence: to sadness and anger
   equally when they have none); a machine translation counts TRANSLATED_WORDS as much (its word choice is
   the translator's, and it errs).
2. Family score = the weighted sum over modalities (VISUAL_WEIGHT, VOICE_WEIGHT, TEXT_WEIGHT).
3. Neutral only when the clues sit near the norm: the best family scores under MIN_FAMILY, or the face's
   and voice's neutral evidence is NEUTRAL_DOMINANCE times the best family's score.
4. The label set follows the evidence. The best family always gives its base word. Another family joins
   when it scores at least SUPPORT_RATIO of the best (so one dominant family gives few labels and several
   supported families give more), at most MAX_FAMILIES, and at most MAX_LABELS labels in all. A family
   of the opposite valence joins only with its own distinct evidence: a change over time on the face (sad,
   then happy), or a modality of its own, one giving it at least DISTINCT_MIN and the best family less (the
   face smiles while the words are negative), never the same clue read two ways.
5. Specific words: a family's more specific word ("furious", "dejected", "relieved", "sarcastic", ...)
   is added only when a measured clue specific to it is present, and only for the leading family when
   several families are named (and for joy in a recovery arc, whose specific clue is the arc). An
   activated or subdued voice is clue_acoustic's ACTIVATED / SUBDUED arousal, the same numbers the voice
   paragraph uses, so labels and explanation never disagree about the voice. A specific word scores
   its family's score times SPECIFIC_DIRECT when its clue measures the family's own intensity (arousal,
   or a mild score: dejected, excited, nervous, calm, annoyed), SPECIFIC_COMBINED when it rests on a second
   clue (head lowered, unsteady voice, a smile or surprise with words under NEGATIVE_WORDS, FURIOUS_AROUSAL
   with FURIOUS_TENSION), SPECIFIC_RELIEF for relief. Words the person says about their own feeling are
   kept (in their own language's words, not a translation's), SAID_BONUS above their family's score.
6. Recovery arc: when the face is clearly negative at the beginning and clearly happy at the end (crying,
   then laughing: ARC_FIRST_MIN and ARC_LAST_MIN over at least ARC_MIN_FRAMES frames), the negative family
   leads (at least ARC_LEAD times joy's score) and "relieved" is added: relief is the resolution of a
   prior negative state, so that state is the clip's emotional event even if the smile lasts as long.
7. Evidence: a label cites the facts that point to its family specifically: a face expression peaking at
   CITE_FACE_MIN or more, a voice pattern at CITE_VOICE_MIN or more, words, a wording valence of at least
   CITE_VALENCE_MIN; a label with none cites the NEAR_NORM fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.engines.clue_acoustic import ACTIVATED, SUBDUED, AcousticClues, voice_cues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.expressions import FER_FAMILY, FER_LABELS
from omni_emotion.facial_actions import PHASES
from omni_emotion.facts import Fact
from omni_emotion.lexicon import FAMILIES, lookup

__all__ = ["BASE_WORD", "NEAR_NORM", "FusionConfig", "Label", "fuse", "visual_family_evidence"]

# FER2013 training-set class counts (public dataset statistics), in FER_LABELS order.
FER2013_COUNTS = np.array([3995, 436, 4097, 7215, 4830, 3171, 4965], dtype=np.float64)
# What the scorer ranks: the lexicon's families plus boredom, which the voice can show but the face cannot.
SCORED = (*FAMILIES, "boredom")
BASE_WORD = {"joy": "happy", "sadness": "sad", "anger": "angry", "fear": "worried", "surprise": "surprised",
             "disgust": "disgusted", "contempt": "contemptuous", "neutral": "neutral", "boredom": "bored"}
NEGATIVE = {"sadness", "anger", "fear", "disgust", "contempt", "boredom"}
POSITIVE = {"joy"}
UNSPECIFIED_NEGATIVE = ("sadness", "anger")  # where negative wording goes when no negative family is named
MODALITIES = ("face", "voice", "words")
NEAR_NORM = Fact("clip", "near norm")  # the evidence of a neutral label that nothing measured supports
SAD_ACTIONS = ("head lowered", "face drops")  # facial actions cited for sadness


@dataclass(frozen=True)
class FusionConfig:
    """Weights and thresholds of the scorer (dimensionless unless a unit is given; evidence is in [0, 1]
    per modality). The module docstring says where each one enters the rule."""

    visual_weight: float = 1.0
    voice_weight: float = 1.0
    text_weight: float = 0.8
    valence_weight: float = 0.4  # how much the wording's valence adds to joy / the negative families
    translated_words: float = 0.5  # what a machine translation's words count, relative to the speaker's own
    full_voice_s: float = 1.5  # seconds of speech at which the voice reading counts fully
    prior_power: float = 0.5  # exponent of the FER2013 prior correction (0 = none, 1 = full)
    min_family: float = 0.25  # score the best family needs before anything but neutral is said
    neutral_dominance: float = 1.5  # neutral evidence this many times the best family's score -> neutral
    support_ratio: float = 0.6  # another family joins at this fraction of the best family's score
    distinct_min: float = 0.15  # a modality's contribution that counts as a family's own evidence
    max_families: int = 3
    max_labels: int = 6
    # recovery arc: phase-mean probabilities of the negative beginning and the happy end
    arc_min_frames: int = 3
    arc_first_min: float = 0.4
    arc_last_min: float = 0.5
    arc_lead: float = 1.05  # the arc's negative family scores at least this times joy's score
    # specific words: their score as a fraction of their family's, and the clues they need
    specific_direct: float = 0.9
    specific_combined: float = 0.85
    specific_relief: float = 0.8
    negative_words: float = -0.3  # VADER compound at or under which words count as negative
    furious_arousal: float = 0.85  # anger this activated in the voice reads as fury ...
    furious_tension: float = 2.0  # ... with a vocal-tension z-score this high
    mild_anger: float = 0.3  # anger scoring under this reads as annoyance
    said_bonus: float = 0.05  # a word the person says about their feeling scores this above its family
    # citing evidence
    cite_face_min: float = 0.2  # phase-mean probability of an expression worth citing
    cite_voice_min: float = 0.15  # posterior of a voice pattern worth citing
    cite_valence_min: float = 0.05  # |VADER compound| of wording worth citing

    def __post_init__(self) -> None:
        if not 1 <= self.max_labels <= 6:
            raise ValueError(f"max_labels must be in 1..6, got {self.max_labels}")
        if not 1 <= self.max_families <= self.max_labels:
            raise ValueError(f"max_families must be in 1..max_labels, got {self.max_families}")
        if not 0.0 <= self.prior_power <= 1.0:
            raise ValueError(f"prior_power must be in [0, 1], got {self.prior_power}")
        if not 0.0 < self.support_ratio <= 1.0:
            raise ValueError(f"support_ratio must be in (0, 1], got {self.support_ratio}")
        if self.full_voice_s <= 0 or self.arc_min_frames < 1:
            raise ValueError(f"full_voice_s must be > 0 and arc_min_frames >= 1, got {self.full_voice_s} "
                             f"and {self.arc_min_frames}")


@dataclass
class Label:
    """One output label with its score and the measured facts behind it (``family``: a lexicon family)."""

    word: str
    family: str
    score: float
    evidence: list[Fact] = field(default_factory=list)


def visual_family_evidence(probs: np.ndarray, phases: np.ndarray,
                           prior_power: float = FusionConfig.prior_power,
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
    salience = 0.5 * (mean + peak)  # the mean of the two
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
            # in SCORED's order, not the set's: a sum's rounding must not change with the hash seed
            negative = {f: scores[f] for f in SCORED if f in NEGATIVE and f in scores}
            total = sum(negative.values())
            for f in UNSPECIFIED_NEGATIVE if total == 0 else negative:
                share = 1.0 / len(UNSPECIFIED_NEGATIVE) if total == 0 else negative[f] / total
                scores[f] += cfg.valence_weight * -text.valence * share
    return scores


def _voice_family_evidence(acoustic: AcousticClues, cfg: FusionConfig) -> dict[str, float]:
    """The voice reading's posterior per scored family, scaled by how much speech it rests on."""
    out = {f: 0.0 for f in SCORED}
    if acoustic.reading is None:
        return out
    reliability = min(1.0, acoustic.speech_seconds / cfg.full_voice_s)
    for family, p in acoustic.reading.families.items():
        out[family] = reliability * p
    return out


def _evidence(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
              cfg: FusionConfig) -> dict[str, dict[str, float]]:
    """Weighted contribution of each modality to each scored family: {family: {modality: value}}."""
    vis = visual_family_evidence(visual.probs, visual.phases, cfg.prior_power, visual.weights)
    voice = _voice_family_evidence(acoustic, cfg)
    txt = _text_family_evidence(text, cfg)
    text_weight = cfg.text_weight * (cfg.translated_words if text.translation else 1.0)
    return {f: {"face": cfg.visual_weight * visual.quality * vis.get(f, 0.0),
                "voice": cfg.voice_weight * voice[f],
                "words": text_weight * txt.get(f, 0.0)} for f in SCORED}


def fuse(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
         cfg: FusionConfig = FusionConfig()) -> list[Label]:
    """Labels, most salient first, each with its evidence; never empty."""
    evidence = _evidence(visual, acoustic, text, cfg)
    scores = {f: sum(parts.values()) for f, parts in evidence.items()}
    reasons = _reasons(visual, acoustic, text, evidence, cfg)
    arc = _recovery_arc(visual, cfg)
    if arc is not None:
        scores[arc] = max(scores[arc], cfg.arc_lead * scores["joy"])
        reasons[arc].insert(0, Fact("face", "shown first", about=arc))

    chosen = _choose_families(scores, evidence, arc, cfg)
    labels: list[Label] = []
    for fam in chosen:
        labels.append(_base_label(fam, scores[fam], reasons[fam]))
        if fam == chosen[0] or (arc is not None and fam == "joy"):  # the arc is joy's own specific clue
            labels.extend(_specific(fam, scores[fam], visual, acoustic, text, reasons[fam], cfg))
    for word in [] if text.translation else text.explicit:  # what the person says they feel is kept
        entry = lookup(word)
        if entry is not None and all(lab.word != entry.word for lab in labels):
            labels.append(Label(entry.word, entry.family, scores[entry.family] + cfg.said_bonus,
                                [Fact("words", "said", about=word)]))
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


def _base_label(fam: str, score: float, reasons: list[Fact]) -> Label:
    word = BASE_WORD[fam]
    entry = lookup(word)
    return Label(word, entry.family if entry else fam, score, reasons or [NEAR_NORM])


def _recovery_arc(visual: VisualClues, cfg: FusionConfig) -> str | None:
    """The negative family shown clearly at the beginning when the face is clearly happy at the end."""
    if not visual.has_face or len(visual.probs) < cfg.arc_min_frames:
        return None
    (first, p_first), _, (last, p_last) = visual.phase_top()
    family = FER_FAMILY[first]
    if family in NEGATIVE and p_first >= cfg.arc_first_min and last == "happy" and p_last >= cfg.arc_last_min:
        return family
    return None


def _reasons(visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
             evidence: dict[str, dict[str, float]], cfg: FusionConfig) -> dict[str, list[Fact]]:
    """Per scored family, the measured facts that point to it specifically."""
    reasons: dict[str, list[Fact]] = {f: [] for f in SCORED}
    _face_reasons(visual, reasons, cfg)
    _voice_reasons(acoustic, reasons, cfg)
    _text_reasons(text, evidence, reasons, cfg)
    return reasons


def _face_reasons(visual: VisualClues, reasons: dict[str, list[Fact]], cfg: FusionConfig) -> None:
    if not visual.has_face:
        return
    mean = visual.weighted_mean()
    for i, label in enumerate(FER_LABELS):
        peak_phase = int(np.argmax(visual.phases[:, i]))
        peak = float(visual.phases[peak_phase, i])
        if peak >= cfg.cite_face_min:
            fact = Fact("face", "expression", peak, about=label, where=PHASES[peak_phase],
                        more=(("mean", float(mean[i])),))
            reasons[FER_FAMILY[label]].append(fact)
    for action in visual.actions:
        if action.name == "mouth widened":
            reasons["joy"].append(action)
        elif action.name in SAD_ACTIONS:
            reasons["sadness"].append(action)


def _voice_reasons(acoustic: AcousticClues, reasons: dict[str, list[Fact]], cfg: FusionConfig) -> None:
    if acoustic.reading is None:
        return
    for family, p in acoustic.reading.families.items():
        if p >= cfg.cite_voice_min:
            cues = voice_cues(acoustic, family) if family != "neutral" else []
            reasons[family].append(Fact("voice", "voice pattern", p, about=family, support=tuple(cues)))


def _text_reasons(text: TextualClues, evidence: dict[str, dict[str, float]], reasons: dict[str, list[Fact]],
                  cfg: FusionConfig) -> None:
    said = "said in translation" if text.translation else "said"
    for word in text.explicit:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(Fact("words", said, about=word))
    for word, sim in text.similar:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(Fact("words", "close to", sim, about=word))
    if text.valence is not None and abs(text.valence) >= cfg.cite_valence_min:
        # cite the wording only where it added to the score (see _text_family_evidence)
        fams = ["joy"] if text.valence > 0 else [f for f in sorted(NEGATIVE) if evidence[f]["words"] > 0]
        for fam in fams:
            reasons[fam].append(Fact("words", "wording", text.valence))


def _measured_smile(visual: VisualClues) -> Fact | None:
    """The fact that showed a smile: the happy expression where it peaks, if it leads there, else a
    widened mouth; None when nothing measured one."""
    if not visual.has_face:
        return None
    happy = FER_LABELS.index("happy")
    best = max(range(len(visual.phases)), key=lambda i: visual.phases[i][happy])
    if FER_LABELS[int(np.argmax(visual.phases[best]))] == "happy":
        return Fact("face", "expression", float(visual.phases[best][happy]), about="happy",
                    where=PHASES[best], more=(("mean", float(visual.weighted_mean()[happy])),))
    return next((action for action in visual.actions if action.name == "mouth widened"), None)


def _specific(fam: str, score: float, visual: VisualClues, acoustic: AcousticClues, text: TextualClues,
              base_reasons: list[Fact], cfg: FusionConfig) -> list[Label]:
    """Specific words the measured clues support, scored just below their family's base word."""
    out: list[Label] = []
    a = acoustic.arousal
    valence = text.valence

    def add(word: str, factor: float, why: Fact) -> None:
        out.append(Label(word, lookup(word).family, score * factor, [why, *base_reasons[:2]]))

    if fam == "sadness":
        lowered = next((f for f in visual.actions if f.name in SAD_ACTIONS), None)
        if a is not None and a <= SUBDUED:
            add("dejected", cfg.specific_direct, Fact("voice", "subdued voice", a, about=fam))
        elif lowered is not None:
            add("dejected", cfg.specific_combined, Fact("face", "lowered", about=fam, support=(lowered,)))
        trembling = acoustic.fact("trembling")
        if trembling is not None:
            add("upset", cfg.specific_combined, Fact("voice", "unsteady voice", trembling.value, about=fam))
    elif fam == "joy":
        if a is not None and a >= ACTIVATED:
            add("excited", cfg.specific_direct, Fact("voice", "activated voice", a, about=fam))
        if _recovery_arc(visual, cfg) is not None:
            add("relieved", cfg.specific_relief, Fact("face", "turns happy", about=visual.phase_top()[0][0]))
        smile = _measured_smile(visual)
        if valence is not None and valence <= cfg.negative_words and smile is not None:
            add("sarcastic", cfg.specific_combined,
                Fact("clip", "smile with negative words", valence, support=(smile,)))
    elif fam == "fear":
        if a is not None and a >= ACTIVATED:
            add("nervous", cfg.specific_direct, Fact("voice", "activated voice", a, about=fam))
    elif fam == "anger":
        if a is not None and a >= cfg.furious_arousal and acoustic.reading is not None \
                and acoustic.reading.cues["tension"] >= cfg.furious_tension:
            add("furious", cfg.specific_combined, Fact("voice", "tense activated voice", a, about=fam,
                                                       more=(("tension", acoustic.reading.cues["tension"]),)))
        elif score < cfg.mild_anger:
            add("annoyed", cfg.specific_direct, Fact("clip", "mild", score, about=fam))
    elif fam == "surprise":
        if valence is not None and valence <= cfg.negative_words:
            add("shocked", cfg.specific_combined, Fact("words", "negative words", valence, about=fam))
    elif fam == "neutral":
        if a is not None and a <= SUBDUED:
            add("calm", cfg.specific_direct, Fact("voice", "even voice", a))
    return out
