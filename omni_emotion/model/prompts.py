"""The questions the omni engine asks, and the user text around them: one wording for training and serving.

``training/templates.py`` lists ``LABELS_PROMPT`` and ``EXPLAIN_PROMPT`` among its ``ov_labels`` and
``describe`` phrasings, and its converters build the user text with ``user_prompt`` when the annotation file
carries the transcript, so a trained model is asked at serving time in words it was trained on. (They live
here, below both the engines and training, because the engines may not import training.)
"""

from __future__ import annotations

__all__ = ["EXPLAIN_PROMPT", "LABELS_PROMPT", "user_prompt"]

LABELS_PROMPT = (
    "Watch the main person's face, listen to their voice and read what they say. Which emotional states do "
    "they show? Answer only with emotion words, most evident first, separated by commas."
)
EXPLAIN_PROMPT = (
    "Describe how the main person feels and why. Cite the visual clues (facial expression, gaze, head and "
    "body movement), the acoustic clues (tone, pitch, loudness, pace) and the textual clues (what is said), "
    "then conclude with their emotional states."
)


def user_prompt(task: str, transcript: str, max_chars: int = 1000) -> str:
    """The task text, preceded by the transcript (the paper's prompts give the subtitle) when there is one."""
    said = transcript.strip()[:max_chars]
    return f'The person says: "{said}"\n{task}' if said else task
