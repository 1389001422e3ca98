"""Instruction wording for the training tasks, several phrasings per task so the model learns the intent,
not one sentence. The choice is a pure function of a key (the sample id), so a manifest converts the same
way on every run.

Tasks: ``transcribe`` and ``caption`` (phase 1, audio), ``classify`` (phase 2, a closed set of candidate
labels listed in the question), ``describe`` and ``ov_labels`` (phase 3, explanation and open-vocabulary
labels). The first phrasing of ``ov_labels`` and of ``describe`` is the question the omni engine asks
(``model.prompts``), and with a transcript the instruction is wrapped as the engine wraps it
(``user_prompt``: the transcript first), so serving asks in the words training used.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from omni_emotion.errors import ConfigError
from omni_emotion.model.prompts import EXPLAIN_PROMPT, LABELS_PROMPT, user_prompt

__all__ = ["TASKS", "TEMPLATES", "instruction", "labels_answer"]

TEMPLATES: dict[str, tuple[str, ...]] = {
    "transcribe": (
        "Write down exactly what is said in this recording.",
        "Transcribe the speech you hear, word for word.",
        "What words does the speaker say? Give the transcript only.",
        "Listen to the audio and type out the spoken words.",
    ),
    "caption": (
        "Describe the sounds in this recording in one sentence.",
        "What can be heard here? Answer with a short caption.",
        "Give a brief description of the audio.",
        "Summarise what this sound clip contains.",
    ),
    "classify": (
        "Which of these emotions does the face show: {candidates}? Answer with one of them.",
        "Pick the emotion that best matches this person's expression. Options: {candidates}.",
        "Look at the face. Is the emotion {candidates}? Reply with a single word from the list.",
        "Choose one label for the facial expression from the following: {candidates}.",
    ),
    "describe": (
        EXPLAIN_PROMPT,
        "Explain what this person is feeling, citing what you see in the face, hear in the voice "
        "and read in the words.",
        "Describe the emotional state of the main person and the visual, vocal and verbal clues behind it.",
        "Using the facial expression, the tone of voice and what is said, reason about how this person feels.",
        "What emotions come through in this clip, and which facial, acoustic and textual cues reveal them?",
    ),
    "ov_labels": (
        LABELS_PROMPT,
        "List every emotion this person shows, as words separated by commas.",
        "Which emotions are present in this clip? Give them as a comma-separated list of words.",
        "Name the feelings of the main person, most salient first, separated by commas.",
        "Answer with emotion words only, comma separated: how does this person feel?",
    ),
}
TASKS = tuple(TEMPLATES)


def instruction(task: str, key: str, *, candidates: Sequence[str] = (), transcript: str = "") -> str:
    """The instruction for ``task``; the phrasing is picked by a CRC32 of ``key`` (stable across runs).

    ``classify`` needs ``candidates`` (the label set, listed in the given order). ``transcript``: what is said
    in the clip, put before the instruction as the omni engine puts it.
    """
    if task not in TEMPLATES:
        raise ConfigError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    options = TEMPLATES[task]
    text = options[zlib.crc32(key.encode("utf-8")) % len(options)]
    if "{candidates}" in text:
        if not candidates:
            raise ConfigError(f"task {task!r} needs the list of candidate labels")
        text = text.format(candidates=", ".join(candidates))
    return user_prompt(text, transcript)


def labels_answer(labels: Sequence[str]) -> str:
    """The target text for open-vocabulary labels: ``"excited, joyful, happy"`` (order kept)."""
    return ", ".join(labels)
