"""Judgment: a calibrated posterior over emotion families from all the clues, then the label set that
maximises the expected emotion-wheel score under it.

The rule, step by step (constants are ``FusionConfig`` fields, in capitals here):
1. Prior. The label frequencies of MER2023's training split, the drama corpus OV-MERD was drawn from
   (``data/decision.json``, written by bench/fit_decision.py). With no evidence, the answer is the prior's
   best constant answer (engines/decision.py), so the engine cannot fall below that floor on such data.
2. Evidence, each a likelihood ratio over families with a weight in [0, 1] (engines/posterior.py):
   - face: the expression model's probabilities in the phase (beginning, middle, end of the track, each a
     quality-weighted mean) where each class is strongest, normalised, so a clip that shows sadness and then
     joy is evidence of both, as annotators label every emotion a clip shows clearly; each is divided by its
     class's share of FER2013's training set (the model's own prior: a label-shift correction) and weighted
     by the face's quality (size, frontality, sharpness, detector score);
   - voice: the learned eGeMAPS model (engines/voice_model.py), calibrated on held-out speakers, weighted
     by how much speech there was (fully from FULL_VOICE_S seconds) and by how familiar the voice is to the
     model (its out-of-distribution weight); no family's ratio goes below the model's fitted floor (it was
     rarely that wrong on held-out speakers), so the voice alone cannot rule out what the words say;
   - words: the words model's calibrated reading of what was said (engines/word_reading.py, fitted on
     MER2023's clean subtitles), weighted for recognised speech: CHINESE_WORDS when the original Chinese is
     read too, WORDS_WEIGHT for English, TRANSLATED_WORDS when only a machine translation can be read (the
     reader's accuracy under simulated recognition errors, bench/words_asr.py, falls from 45-48% to 37-41%
     while its confidence stays put), times the share of FULL_WORDS words said (a one-word reply says
     little).
3. Valence from the face and the words, arousal from the voice. The voice tells aroused from calm far better
   than it tells anger from joy (Juslin & Laukka 2003; Schuller 2018). So the voice's evidence is split into
   its arousal part (which of ACTIVATION's groups: activated, calm, ...) and its valence part (which family
   inside the group), and the valence part counts only as much as the face and the words leave undecided:
   (1 - c) with c the stronger of the face's weight and the words' weight times how far their reading is
   from their own prior. With the voice alone and a split valence, the posterior is split, and the decision
   rule names both families (a hedge), rather than picking one.
4. Decision: the label set that maximises the expected M-avg under the posterior (engines/decision.py).
   When neutral is more likely than not, "neutral" leads the answer; the emotional set follows (it costs
   nothing where the truth is neutral, which the metric does not score). In a recovery arc (the face
   clearly negative at the beginning and clearly happy at the end: ARC_FIRST_MIN, ARC_LAST_MIN over at least
   ARC_MIN_FRAMES frames) the negative family is named before joy: relief resolves a prior negative state,
   so that state is the clip's emotional event. Order changes no score.
5. Specific words: the leading family's (and in an arc, joy's) more specific word ("furious", "dejected",
   "excited", "nervous", ...) is added after its base word only when a measured clue specific to it is present
   (as before: an activated or subdued voice is clue_acoustic's ACTIVATED / SUBDUED arousal, the same numbers the voice
   paragraph uses). Words the person says about their own feeling are kept, in their own language's words.
6. Evidence: each label cites the facts that point to its family (a face expression peaking at CITE_FACE_MIN
   or more, the voice model or the words model giving it CITE_MODEL_MIN or more, words said); a family
   that only the prior supports cites the prior. ``Judgment`` also records what the prior alone would have
   answered and how far each modality moved the leading family, which the explanation says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omni_emotion.engines.clue_acoustic import ACTIVATED, SUBDUED, AcousticClues, voice_cues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.engines.decision import DecisionTables, choose_labels, load_decision_tables
from omni_emotion.engines.posterior import Evidence, combine, shift
from omni_emotion.engines.voice_model import VoiceEvidence
from omni_emotion.expression_io import FER_FAMILY, FER_LABELS
from omni_emotion.facial_actions import PHASES
from omni_emotion.facts import Fact
from omni_emotion.lexicon import lookup

__all__ = [
    "ACTIVATION",
    "BASE_WORD",
    "NEAR_NORM",
    "FusionConfig",
    "Judgment",
    "Label",
    "fuse",
    "judge",
    "voice_only_labels",
]

# FER2013 training-set class counts (public dataset statistics), in FER_LABELS order.
FER2013_COUNTS = np.array([3995, 436, 4097, 7215, 4830, 3171, 4965], dtype=np.float64)
BASE_WORD = {
    "joy": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "worried",
    "surprise": "surprised",
    "disgust": "disgusted",
    "contempt": "contemptuous",
    "neutral": "neutral",
    "boredom": "bored",
}
# Arousal groups of the circumplex model (Russell 1980): the voice's reliable part is which group.
ACTIVATION = {
    "anger": "activated",
    "joy": "activated",
    "fear": "activated",
    "surprise": "activated",
    "sadness": "calm",
    "boredom": "calm",
    "neutral": "calm",
    "disgust": "disgust",
    "contempt": "contempt",
}
NEGATIVE = {"sadness", "anger", "fear", "disgust", "contempt", "boredom"}
# A family the expression model has no class for is read through the class its faces show: a bored face is a
# slack, neutral one; FER2013 has no contempt, whose faces its annotators filed under disgust.
FACE_STAND_IN = {"boredom": "neutral", "contempt": "disgust"}
# Likewise for the words model's six MER2023 classes: bored talk is neutral talk, and the scheme files disgust
# and contempt under angry.
WORDS_STAND_IN = {"boredom": "neutral", "disgust": "anger", "contempt": "anger"}
NEAR_NORM = Fact("clip", "near norm")  # the evidence of a neutral label that nothing measured supports
SAD_ACTIONS = ("head lowered", "face drops")  # facial actions cited for sadness


@dataclass(frozen=True)
class FusionConfig:
    """Weights and thresholds of the judgment (dimensionless unless a unit is given). The module docstring
    says where each one enters."""

    words_weight: float = 0.7  # English speech as recognised (see the module docstring)
    chinese_words: float = 0.8  # Chinese speech, read in its own characters beside the translation
    translated_words: float = 0.5  # speech read only through its machine translation
    full_words: int = 5  # words said at which the words count fully
    full_voice_s: float = 1.5  # seconds of speech at which the voice counts fully
    max_labels: int = 6
    # specific words and the clues they need
    negative_words: float = -0.3  # VADER compound at or under which words count as negative
    furious_arousal: float = 0.85  # anger this activated in the voice reads as fury ...
    furious_tension: float = 2.0  # ... with a vocal-tension z-score this high
    arc_min_frames: int = 3  # recovery arc ("relieved"): phase-mean probabilities of a negative beginning ...
    arc_first_min: float = 0.4
    arc_last_min: float = 0.5  # ... and a happy end
    # citing evidence
    cite_face_min: float = 0.2  # phase-mean probability of an expression worth citing
    cite_model_min: float = 0.3  # a voice or words model's probability of a family worth citing
    moved_min: float = 0.5  # log-probability shift of the leading family that the explanation names

    def __post_init__(self) -> None:
        if not 1 <= self.max_labels <= 6:
            raise ValueError(f"max_labels must be in 1..6, got {self.max_labels}")
        for name in ("words_weight", "chinese_words", "translated_words"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.full_voice_s <= 0 or self.arc_min_frames < 1:
            raise ValueError(
                f"full_voice_s must be > 0 and arc_min_frames >= 1, got {self.full_voice_s} "
                f"and {self.arc_min_frames}"
            )


@dataclass
class Label:
    """One output label with its score (its family's posterior probability, a little less for a specific
    word) and the measured facts behind it (``family``: a lexicon family)."""

    word: str
    family: str
    score: float
    evidence: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class Judgment:
    """labels: the answer, best first; posterior: family -> probability; prior_labels: what the prior alone
    answers; moved: modality -> log-probability shift it gave the leading family (only shifts of at least
    MOVED_MIN in size); valence_from: the modalities that decided valence over the voice ("" if none)."""

    labels: list[Label]
    posterior: dict[str, float]
    prior_labels: list[str]
    moved: dict[str, float]
    valence_from: str


# --- evidence ------------------------------------------------------------------------------------------
def face_evidence(visual: VisualClues) -> Evidence | None:
    """The face's likelihood ratio per family (FER probabilities over the model's training share)."""
    if not visual.has_face:
        return None
    share = FER2013_COUNTS / FER2013_COUNTS.sum()
    peak = visual.phases.max(axis=0)
    shown = peak / peak.sum() if peak.sum() > 0 else np.full(len(peak), 1.0 / len(peak))
    ratio = {FER_FAMILY[label]: float(p / s) for label, p, s in zip(FER_LABELS, shown, share)}
    ratio |= {family: ratio[FER_FAMILY[stand_in]] for family, stand_in in FACE_STAND_IN.items()}
    return Evidence("face", ratio, float(np.clip(visual.quality, 0.0, 1.0)))


def words_evidence(text: TextualClues, cfg: FusionConfig) -> tuple[Evidence | None, float]:
    """The words model's ratio and weight, and how decided its valence is (its weight times the distance of
    its reading from its prior, in [0, 1])."""
    reading = text.reading
    if reading is None:
        return None, 0.0
    weight = (
        cfg.chinese_words
        if reading.source == "zh+en"
        else cfg.translated_words
        if text.translation
        else cfg.words_weight
    ) * min(1.0, reading.n_words / cfg.full_words)
    ratio = {
        f: reading.families[f] / reading.prior[f] for f in reading.families if reading.prior.get(f, 0) > 0
    }
    ratio |= {family: ratio[stand_in] for family, stand_in in WORDS_STAND_IN.items() if stand_in in ratio}
    distance = 0.5 * sum(abs(reading.families[f] - reading.prior.get(f, 0.0)) for f in reading.families)
    return Evidence("words", ratio, weight), weight * min(1.0, distance)


def voice_evidence(
    voice: VoiceEvidence | None, speech_seconds: float, valence_decided: float, cfg: FusionConfig
) -> Evidence | None:
    """The voice's ratio with its valence part counting ``1 - valence_decided`` (step 3 of the rule)."""
    if voice is None:
        return None
    share = {f: voice.probabilities[f] / voice.ratio[f] for f in voice.ratio if voice.ratio[f] > 0}
    ratio = {}
    for family, group_name in ACTIVATION.items():
        group = [f for f in share if ACTIVATION.get(f) == group_name]
        if not group:
            continue  # the voice model knows nothing of this arousal group
        p_group, s_group = sum(voice.probabilities[f] for f in group), sum(share[f] for f in group)
        arousal = p_group / s_group
        if family not in share or p_group <= 0:  # a family the voice model has no class for: arousal alone
            ratio[family] = arousal
            continue
        within = (voice.probabilities[family] / p_group) / (share[family] / s_group)
        ratio[family] = max(voice.ratio_floor, arousal * within ** (1.0 - valence_decided))
    weight = voice.weight * min(1.0, speech_seconds / cfg.full_voice_s)
    return Evidence("voice", ratio, weight)


# --- the decision ---------------------------------------------------------------------------------------
NEUTRAL_LEADS = 0.5  # neutral is said when it is more likely than all the emotions together


def _answer(
    posterior: dict[str, float], tables: DecisionTables, max_labels: int, arc: str | None = None
) -> list[str]:
    """Step 4: the expected-score label set, led by "neutral" when neutral is more likely than not, with an
    arc's negative family before joy."""
    candidates = [BASE_WORD[f] for f in tables.families if f != "neutral"]
    words, _ = choose_labels(posterior, tables, candidates, max_labels)
    if arc is not None and BASE_WORD[arc] in words and "happy" in words:
        words.remove(BASE_WORD[arc])
        words.insert(words.index("happy"), BASE_WORD[arc])
    if posterior.get("neutral", 0.0) > NEUTRAL_LEADS or not words:
        words = ["neutral", *words][:max_labels]
    return words


def voice_only_labels(
    voice: VoiceEvidence,
    speech_seconds: float,
    tables: DecisionTables | None = None,
    cfg: FusionConfig = FusionConfig(),
) -> list[str]:
    """The answer the engine gives from the voice alone (no face, no words): what bench/fit_voice.py scores
    leave-one-speaker-out, through the same evidence, posterior and decision as ``judge``."""
    tables = tables or load_decision_tables()
    evidence = voice_evidence(voice, speech_seconds, 0.0, cfg)
    return _answer(combine(tables.prior, [evidence] if evidence else []), tables, cfg.max_labels)


def judge(
    visual: VisualClues,
    acoustic: AcousticClues,
    text: TextualClues,
    cfg: FusionConfig = FusionConfig(),
    tables: DecisionTables | None = None,
) -> Judgment:
    """The posterior, the labels (most salient first, each with its evidence; never empty) and what moved
    the answer away from the prior."""
    tables = tables or load_decision_tables()
    face = face_evidence(visual)
    words, words_decided = words_evidence(text, cfg)
    face_decided = face.weight if face is not None else 0.0
    decided = max(face_decided, words_decided)
    voice = voice_evidence(acoustic.model, acoustic.speech_seconds, decided, cfg)
    evidence = [e for e in (face, voice, words) if e is not None]
    posterior = combine(tables.prior, evidence)
    arc = _recovery_arc(visual, cfg)
    words_chosen = _answer(posterior, tables, cfg.max_labels, arc)
    prior_labels = _answer(dict(tables.prior), tables, cfg.max_labels)

    reasons = _reasons(visual, acoustic, text, tables.prior, cfg)
    labels: list[Label] = []
    for word in words_chosen:
        family = "neutral" if word == "neutral" else lookup(word).family
        facts = reasons.get(family) or [
            Fact("clip", "prior", tables.prior[family], about=family) if family != "neutral" else NEAR_NORM
        ]
        labels.append(Label(word, family, posterior[family], facts))
        emotional = [w for w in words_chosen if w != "neutral"]
        if emotional and (word == emotional[0] or (arc is not None and family == "joy")):  # the arc is joy's
            labels.extend(_specific(family, posterior[family], visual, acoustic, text, facts, cfg))
    for said in [] if text.translation else text.explicit:  # what the person says they feel is kept
        entry = lookup(said)
        if entry is not None and all(lab.word != entry.word for lab in labels):
            labels.append(
                Label(
                    entry.word,
                    entry.family,
                    posterior.get(entry.family, 0.0),
                    [Fact("words", "said", about=said)],
                )
            )
    unique: list[Label] = []
    for lab in labels:
        if all(kept.word != lab.word for kept in unique):
            unique.append(lab)
    unique = unique[: cfg.max_labels]

    lead = next((lab.family for lab in unique if lab.family != "neutral"), unique[0].family)
    moved = {e.modality: round(shift(tables.prior, posterior, e)[lead], 6) for e in evidence}
    moved = {m: v for m, v in moved.items() if abs(v) >= cfg.moved_min}
    valence_from = (
        " and ".join(m for m, d in (("face", face_decided), ("words", words_decided)) if d >= 0.5)
        if voice is not None
        else ""
    )
    return Judgment(unique, posterior, prior_labels, moved, valence_from)


def fuse(
    visual: VisualClues, acoustic: AcousticClues, text: TextualClues, cfg: FusionConfig = FusionConfig()
) -> list[Label]:
    """The labels alone (``judge(...).labels``)."""
    return judge(visual, acoustic, text, cfg).labels


# --- evidence facts --------------------------------------------------------------------------------------
def _reasons(
    visual: VisualClues,
    acoustic: AcousticClues,
    text: TextualClues,
    prior: dict[str, float],
    cfg: FusionConfig,
) -> dict[str, list[Fact]]:
    """Per family, the measured facts that point to it specifically."""
    reasons: dict[str, list[Fact]] = {f: [] for f in prior}
    if visual.has_face:
        mean = visual.weighted_mean()
        for i, label in enumerate(FER_LABELS):
            peak_phase = int(np.argmax(visual.phases[:, i]))
            peak = float(visual.phases[peak_phase, i])
            if peak >= cfg.cite_face_min:
                reasons[FER_FAMILY[label]].append(
                    Fact(
                        "face",
                        "expression",
                        peak,
                        about=label,
                        where=PHASES[peak_phase],
                        more=(("mean", float(mean[i])),),
                    )
                )
        for action in visual.actions:
            if action.name == "mouth widened":
                reasons["joy"].append(action)
            elif action.name in SAD_ACTIONS:
                reasons["sadness"].append(action)
    if acoustic.model is not None:
        for family, p in acoustic.model.probabilities.items():
            if p >= cfg.cite_model_min and family in reasons:
                cues = voice_cues(acoustic, family) if family != "neutral" and acoustic.reading else []
                reasons[family].append(
                    Fact(
                        "voice",
                        "voice model",
                        p,
                        about=family,
                        where=acoustic.model.view,
                        support=tuple(cues),
                    )
                )
    said = "said in translation" if text.translation else "said"
    for word in text.explicit:
        entry = lookup(word)
        if entry is not None:
            reasons[entry.family].append(Fact("words", said, about=word))
    if text.reading is not None:
        for family, p in text.reading.families.items():
            if p >= cfg.cite_model_min and family in reasons:
                reasons[family].append(Fact("words", "words model", p, about=family))
    return reasons


def _recovery_arc(visual: VisualClues, cfg: FusionConfig) -> str | None:
    """The negative family shown clearly at the beginning when the face is clearly happy at the end."""
    if not visual.has_face or len(visual.probs) < cfg.arc_min_frames:
        return None
    (first, p_first), _, (last, p_last) = visual.phase_top()
    family = FER_FAMILY[first]
    if family in NEGATIVE and p_first >= cfg.arc_first_min and last == "happy" and p_last >= cfg.arc_last_min:
        return family
    return None


def _measured_smile(visual: VisualClues) -> Fact | None:
    """The fact that showed a smile: the happy expression where it peaks, if it leads there, else a
    widened mouth; None when nothing measured one."""
    if not visual.has_face:
        return None
    happy = FER_LABELS.index("happy")
    best = max(range(len(visual.phases)), key=lambda i: visual.phases[i][happy])
    if FER_LABELS[int(np.argmax(visual.phases[best]))] == "happy":
        return Fact(
            "face",
            "expression",
            float(visual.phases[best][happy]),
            about="happy",
            where=PHASES[best],
            more=(("mean", float(visual.weighted_mean()[happy])),),
        )
    return next((action for action in visual.actions if action.name == "mouth widened"), None)


_SPECIFIC_SHARE = 0.9  # a specific word ranks just below its family's base word


def _specific(
    fam: str,
    score: float,
    visual: VisualClues,
    acoustic: AcousticClues,
    text: TextualClues,
    base_reasons: list[Fact],
    cfg: FusionConfig,
) -> list[Label]:
    """Specific words the measured clues support, placed right after their family's base word."""
    out: list[Label] = []
    a = acoustic.arousal
    valence = text.valence

    def add(word: str, why: Fact) -> None:
        out.append(Label(word, lookup(word).family, score * _SPECIFIC_SHARE, [why, *base_reasons[:2]]))

    if fam == "sadness":
        lowered = next((f for f in visual.actions if f.name in SAD_ACTIONS), None)
        if a is not None and a <= SUBDUED:
            add("dejected", Fact("voice", "subdued voice", a, about=fam))
        elif lowered is not None:
            add("dejected", Fact("face", "lowered", about=fam, support=(lowered,)))
        trembling = acoustic.fact("trembling")
        if trembling is not None:
            add("upset", Fact("voice", "unsteady voice", trembling.value, about=fam))
    elif fam == "joy":
        if a is not None and a >= ACTIVATED:
            add("excited", Fact("voice", "activated voice", a, about=fam))
        if _recovery_arc(visual, cfg) is not None:
            add("relieved", Fact("face", "turns happy", about=visual.phase_top()[0][0]))
        smile = _measured_smile(visual)
        if valence is not None and valence <= cfg.negative_words and smile is not None:
            add("sarcastic", Fact("clip", "smile with negative words", valence, support=(smile,)))
    elif fam == "fear":
        if a is not None and a >= ACTIVATED:
            add("nervous", Fact("voice", "activated voice", a, about=fam))
    elif fam == "anger":
        if (
            a is not None
            and a >= cfg.furious_arousal
            and acoustic.reading is not None
            and acoustic.reading.cues["tension"] >= cfg.furious_tension
        ):
            add(
                "furious",
                Fact(
                    "voice",
                    "tense activated voice",
                    a,
                    about=fam,
                    more=(("tension", acoustic.reading.cues["tension"]),),
                ),
            )
    elif fam == "surprise" and valence is not None and valence <= cfg.negative_words:
        add("shocked", Fact("words", "negative words", valence, about=fam))
    return out
