"""Every sentence the clue engine says: the clue paragraphs, each label's reasons and the explanation.

The one place that turns facts (omni_emotion/facts.py) and clue measurements into words: the clue modules
measure and fusion decides on names and numbers, never on wording, so a sentence here can change without
changing a label. The explanation follows the benchmark's description order (video, audio, words, then
inference) and says nothing about the scene, clothing or setting, because nothing here measures it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from omni_emotion.engines.clue_acoustic import ACTIVATED, SUBDUED, AcousticClues, voice_cues
from omni_emotion.engines.clue_textual import TextualClues
from omni_emotion.engines.clue_visual import VisualClues
from omni_emotion.engines.fusion import BASE_WORD, NEAR_NORM, Judgment, Label
from omni_emotion.expression_io import FER_FAMILY, FER_LABELS
from omni_emotion.facial_actions import PHASES
from omni_emotion.facts import Fact

__all__ = ["describe_acoustic", "describe_textual", "describe_visual", "explain", "reasons", "render"]


# --- facts ------------------------------------------------------------------------------------------------
def _cue(f: Fact) -> str:
    """A voice cue, its direction (the sign of its z-score) and its measured number."""
    high = f.number("z") > 0
    v = f.value
    return {
        "pitch": lambda: f"pitch {'high' if high else 'low'} for a {f.where}-register voice ({v:.0f} Hz)",
        "range": lambda: f"{'wide' if high else 'narrow, monotone'} pitch range ({v:.1f} semitones)",
        "tension": lambda: f"{'tense, bright' if high else 'lax, soft'} voice (alpha ratio {v:.1f} dB)",
        "clarity": lambda: f"{'clear, ringing' if high else 'rough or breathy'} voice (HNR {v:.1f} dB)",
        "tempo": lambda: f"{'quick' if high else 'slow'} articulation ({v:.1f} voiced stretches/s)",
        "pauses": lambda: f"{'long' if high else 'short'} gaps inside speech (mean {v:.0f} ms)",
    }[f.about]()


def _voice_model(f: Fact) -> str:
    cues = ", ".join(render(c) for c in f.support)
    own = " against this speaker's own voice" if f.where == "speaker" else ""
    return f"the voice model hears {_NOUN[f.about]}{own} ({f.value:.2f})" + (f": {cues}" if cues else "")


# family -> how it is named in a sentence
_NOUN = {
    "joy": "joy",
    "sadness": "sadness",
    "anger": "anger",
    "fear": "fear",
    "surprise": "surprise",
    "disgust": "disgust",
    "contempt": "contempt",
    "boredom": "boredom",
    "neutral": "a neutral voice",
}


def _smile(f: Fact) -> str:
    """The smile behind sarcasm: the happy expression where it peaks, or the widened mouth."""
    if f.name == "expression":
        return f"the face reads {f.about} ({f.value:.2f} at the {f.where})"
    return "the mouth corners widen as in a smile"


def _lowered(f: Fact) -> str:
    (action,) = f.support
    if action.name == "face drops":
        return f"{BASE_WORD[f.about]} with the face sinking lower in the frame at the {action.where}"
    return f"{BASE_WORD[f.about]} with the head lowered at the {action.where}"


def _pauses(f: Fact) -> str:
    n = int(f.number("count"))
    return f"there {'are' if n > 1 else 'is'} {n} long pause{'s' if n > 1 else ''} (longest {f.value:.1f} s)"


# How each fact is said; a label's reasons and the voice paragraph use these words.
_WORDING: dict[str, Callable[[Fact], str]] = {
    # face
    "expression": lambda f: (
        f"face reads {f.about} (mean {f.number('mean'):.2f}, {f.value:.2f} at the {f.where})"
    ),
    "mouth widened": lambda f: f"mouth corners widen at the {f.where}",
    "head lowered": lambda f: f"head lowered at the {f.where}",
    "face drops": lambda f: f"face drops at the {f.where}",
    "shown first": lambda f: "shown first, before the face turns happy",
    "turns happy": lambda f: f"face turns from {f.about} at the beginning to happy at the end",
    "lowered": _lowered,
    # voice
    "voice model": _voice_model,
    "cue": _cue,
    "loud": lambda f: f"the voice is loud ({f.value:.0f} dBFS)",
    "quiet": lambda f: f"the voice is quiet ({f.value:.0f} dBFS)",
    "animated": lambda f: f"the pitch varies widely ({f.value:.0f} semitones)",
    "monotone": lambda f: f"the pitch is flat and monotone ({f.value:.0f} semitones)",
    "rising": lambda f: f"the pitch is rising ({f.value:+.1f} semitones per second)",
    "falling": lambda f: f"the pitch is falling ({f.value:+.1f} semitones per second)",
    "trembling": lambda f: f"the voice is unsteady, as if trembling ({100 * f.value:.0f}% pitch jitter)",
    "fast": lambda f: f"the speech is fast ({f.value:.1f} {f.unit})",
    "slow": lambda f: f"the speech is slow ({f.value:.1f} {f.unit})",
    "pauses": _pauses,
    "louder": lambda f: f"the voice gets louder in the second half ({f.value:+.0f} dB)",
    "softer": lambda f: f"the voice gets softer in the second half ({f.value:+.0f} dB)",
    "higher": lambda f: f"the voice goes higher in the second half ({f.value:+.1f} semitones)",
    "lower": lambda f: f"the voice goes lower in the second half ({f.value:+.1f} semitones)",
    "subdued voice": lambda f: f"{BASE_WORD[f.about]} with a subdued voice (arousal {f.value:.2f})",
    "activated voice": lambda f: f"{BASE_WORD[f.about]} with an activated voice (arousal {f.value:.2f})",
    "tense activated voice": lambda f: (
        f"{BASE_WORD[f.about]} with a very tense, activated voice (arousal "
        f"{f.value:.2f}, tension {f.number('tension'):+.1f} SD from the norm)"
    ),
    "unsteady voice": lambda f: (
        f"{BASE_WORD[f.about]} with an unsteady voice ({100 * f.value:.0f}% pitch jitter)"
    ),
    "even voice": lambda f: f"subdued, even voice (arousal {f.value:.2f})",
    # words
    "said": lambda f: f'says "{f.about}"',
    "said in translation": lambda f: f'the translation says "{f.about}"',
    "close to": lambda f: f'words close to "{f.about}" ({f.value:.2f})',
    "words model": lambda f: f"the words read as {_NOUN[f.about]} to the words model ({f.value:.2f})",
    "wording": lambda f: f"wording {'positive' if f.value > 0 else 'negative'} (VADER {f.value:+.2f})",
    "negative words": lambda f: f"{BASE_WORD[f.about]} while the words are negative (VADER {f.value:+.2f})",
    # across modalities
    "smile with negative words": lambda f: (
        f"{_smile(f.support[0])} while the words are negative (VADER {f.value:+.2f})"
    ),
    NEAR_NORM.name: lambda f: "the clues sit near the norm",
    "prior": lambda f: (
        f"nothing measured points elsewhere, and {BASE_WORD[f.about]} is common in drama "
        f"dialogue (prior {f.value:.2f})"
    ),
}


def render(fact: Fact) -> str:
    """The words for one fact, with its numbers (KeyError for a name that has no wording)."""
    if fact.name not in _WORDING:
        raise KeyError(f"no wording for the fact {fact.name!r}")
    return _WORDING[fact.name](fact)


def reasons(label: Label) -> list[str]:
    """A label's evidence in words, in its order."""
    return [render(f) for f in label.evidence]


# --- the clue paragraphs ---------------------------------------------------------------------------------
_AT = {"beginning": "at the beginning", "middle": "in the middle", "end": "by the end"}
_ADJ = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "neutral",
}
_ACTION = {
    "head turned": "the head is turned away from the camera",
    "head tilted": "the head is tilted to one side",
    "head lowered": "the head is lowered",
    "mouth widened": "the mouth corners are drawn wider, as in a smile",
    "head moving": "the head moves a lot",
    "head still": "the head stays still",
    "leaning in": "the face comes closer to the camera",
    "leaning back": "the face moves away from the camera",
    "face drops": "the face sinks lower in the frame",
}
_THIN = {
    "size": "the face is small",
    "frontality": "the face is turned away",
    "sharpness": "the face is blurred",
    "detection": "the face is hard to detect",
}


def describe_visual(clues: VisualClues) -> str:
    """The visual clue paragraph: expression by phase, facial actions, other faces; every number measured."""
    if not clues.has_face:
        if not clues.duration:
            return ""
        extra = f" {clues.other_faces} other face(s) appear." if clues.other_faces else ""
        return "No face of the main person is visible, so there are no facial clues." + extra
    parts = []
    tops = clues.phase_top()
    if len(clues.probs) == 1:  # a still image, or a face seen in one frame only: no change over time to tell
        index = int(np.argmax(clues.probs[0]))
        parts.append(
            f"The person's facial expression reads as {_ADJ[FER_LABELS[index]]} "
            f"(expression model: {FER_LABELS[index]} {clues.probs[0, index]:.2f})."
        )
    elif len({label for label, _ in tops}) == 1:
        label = max(tops, key=lambda x: x[1])[0]
        mean = clues.probs[:, FER_LABELS.index(label)].mean()
        parts.append(
            f"Throughout the clip the person's facial expression reads as {_ADJ[label]} "
            f"(expression model: {label} {mean:.2f} on average)."
        )
    else:
        steps = [
            f"{_AT[phase]} it reads as {_ADJ[label]} ({label} {p:.2f})"
            for phase, (label, p) in zip(PHASES, tops)
        ]
        parts.append("Over the clip the person's facial expression changes: " + "; ".join(steps) + ".")
    for action in clues.actions:
        where = "Throughout the clip" if action.where == "throughout" else f"At the {action.where}"
        parts.append(f"{where}, {_ACTION[action.name]}.")
    thin = clues.thin_evidence()
    if thin is not None:
        parts.append(
            f"The face evidence is thin ({_THIN[thin.about]}; quality {thin.value:.2f} of 1), "
            f"so the expression counts for less."
        )
    if clues.duration and clues.face_seconds < 0.6 * clues.duration:
        parts.append(
            f"The face is visible for about {clues.face_seconds:.1f} of {clues.duration:.1f} seconds."
        )
    if clues.other_faces:
        many = clues.other_faces > 1
        parts.append(f"{clues.other_faces} other face{'s' if many else ''} also appear{'' if many else 's'}.")
    return " ".join(parts)


def describe_acoustic(clues: AcousticClues, has_audio: bool) -> str:
    """The acoustic clue sentence(s); empty when there is no audio stream at all."""
    if not has_audio:
        return ""
    if not clues.has_speech:
        return "The audio contains no detectable speech."
    overall = (
        ""
        if clues.arousal is None
        else "activated"
        if clues.arousal >= ACTIVATED
        else "subdued"
        if clues.arousal <= SUBDUED
        else ""
    )
    if not clues.facts:
        voice = (
            "an activated" if overall == "activated" else f"a {overall}" if overall else "an even, moderate"
        )
        score = "" if clues.arousal is None else f" (arousal {clues.arousal:.2f})"
        return (
            f"The person speaks for about {clues.speech_seconds:.1f} s in {voice} voice{score}."
            + _reading_sentence(clues)
        )
    body = "; ".join(render(f) for f in clues.facts)
    level = f" Overall the voice sounds {overall} (arousal {clues.arousal:.2f})." if overall else ""
    return f"In the audio, {body}.{_reading_sentence(clues)}{level}"


def _reading_sentence(clues: AcousticClues) -> str:
    """What the learned voice model hears, with the measured cues that point the same way; "" without it."""
    if clues.model is None:
        return ""
    family = max(clues.model.probabilities, key=clues.model.probabilities.__getitem__)
    p = clues.model.probabilities[family]
    why = [render(c) for c in voice_cues(clues, family)] if family != "neutral" and clues.reading else []
    because = f": {'; '.join(why)}" if why else ""
    own = " measured against this speaker's own earlier speech," if clues.model.view == "speaker" else ""
    unfamiliar = (
        " This voice lies outside what the model was fitted on, so it counts for less."
        if clues.model.weight < 1.0
        else ""
    )
    return f" To the voice model,{own} it sounds most like {_NOUN[family]} ({p:.2f}){because}.{unfamiliar}"


_CLEAR_TONE, _SOME_TONE = 0.5, 0.05  # |VADER compound| of clearly / somewhat positive or negative wording


def describe_textual(clues: TextualClues) -> str:
    """The textual clue sentence(s): the quote, then what the words convey. Empty when nothing was said."""
    if not clues.text:
        return ""
    quote = f'The person says: "{clues.text}"{_stop(clues.text)}'
    if clues.translation:
        quote += f' In English: "{clues.translation}"{_stop(clues.translation)}'
    if clues.valence is None:
        return quote
    v = clues.valence
    tone = (
        "clearly positive"
        if v >= _CLEAR_TONE
        else "somewhat positive"
        if v >= _SOME_TONE
        else "clearly negative"
        if v <= -_CLEAR_TONE
        else "somewhat negative"
        if v <= -_SOME_TONE
        else "neutral"
    )
    subject = "The translated wording" if clues.translation else "The wording"
    parts = [f"{subject} is {tone} (VADER compound {clues.valence:+.2f})"]
    if clues.explicit:
        parts.append(
            "and names the feeling"
            + (" " if len(clues.explicit) == 1 else "s ")
            + ", ".join(f'"{w}"' for w in clues.explicit)
        )
    if clues.negated:
        parts.append("while denying " + ", ".join(f'"{w}"' for w in clues.negated))
    text = quote + " " + " ".join(parts) + "."
    if clues.similar:
        text += " In meaning it is closest to " + ", ".join(f"{w} ({s:.2f})" for w, s in clues.similar) + "."
    if clues.reading is not None:
        family, p = clues.reading.top
        text += f" Read like drama dialogue, the words sound most like {_NOUN[family]} ({p:.2f})."
    return text


def _stop(quoted: str) -> str:
    """A quote that ends its own sentence takes no extra full stop after the closing mark."""
    return "" if quoted.rstrip()[-1:] in ".!?。！？…" else "."


# --- the explanation ---------------------------------------------------------------------------------------
def _join(words: list[str], last: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


_MODALITY = {"face": "the face", "voice": "the voice", "words": "the words"}


def lead_sentence(judgment: Judgment) -> str:
    """One plain sentence: the answer, what moved it from the prior, and what counted less."""
    words = [lab.word for lab in judgment.labels]
    emotional = [w for w in words if w != "neutral"]
    if words[0] == "neutral":
        answer = "Mostly neutral" + (f"; if anything, {_join(emotional, 'or')}." if emotional else ".")
    else:
        answer = f"Most likely {_join(words)}."
    raised = [m for m, v in judgment.moved.items() if v > 0]
    if raised:
        because = f" {_join([_MODALITY[m] for m in raised]).capitalize()} pointed there"
        if words != judgment.prior_labels:
            because += f", away from the usual answer ({_join(judgment.prior_labels)})"
        answer += because + "."
    elif words == judgment.prior_labels:
        answer += (
            " Nothing measured points clearly anywhere, so this is the most common answer in drama dialogue."
        )
    if judgment.valence_from:
        deciders = _MODALITY.get(judgment.valence_from, "the face and the words")
        answer += f" The voice tells how aroused the person is; {deciders} decided which feeling."
    return answer


def _disagreement(visual: VisualClues | None, judgment: Judgment) -> str:
    """A sentence when the face's clearest expression names another family than the answer's lead."""
    if visual is None or not visual.has_face:
        return ""
    mean = visual.weighted_mean()
    index = int(np.argmax(mean))
    face_family = FER_FAMILY[FER_LABELS[index]]
    lead = next((lab for lab in judgment.labels if lab.word != "neutral"), judgment.labels[0])
    if face_family in (lead.family, "neutral") or any(lab.family == face_family for lab in judgment.labels):
        return ""
    others = [m for m, v in judgment.moved.items() if v > 0 and m != "face"]
    why = (
        f"{_join([_MODALITY[m] for m in others])} weigh{'s' if len(others) == 1 else ''} more"
        if others
        else "the face's evidence was too weak to change the answer"
    )
    quality = f" (face quality {visual.quality:.2f})" if visual.quality < 0.5 else ""
    return f" The face reads {_ADJ[FER_LABELS[index]]} ({mean[index]:.2f} on average){quality}, but {why}."


def explain(
    visual: str, acoustic: str, textual: str, judgment: Judgment, visual_clues: VisualClues | None = None
) -> str:
    """The plain lead sentence, then the clue paragraphs (video, audio, words) that hold the figures."""
    parts = [lead_sentence(judgment) + _disagreement(visual_clues, judgment)]
    clues = [s for s in (visual, acoustic, textual) if s]
    parts.extend(clues or ["The clip offers no visible face, no speech and no words to go on."])
    first = judgment.labels[0]
    cited = [r for r in reasons(first)[:2]]
    if cited:
        parts.append(f"For {first.word}: {'; '.join(cited)}.")
    return " ".join(parts)
