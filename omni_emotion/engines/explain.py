"""The explanation paragraph, in the benchmark's description order: video, audio, words, then inference.

Every sentence is assembled from the per-modality clue sentences (each built from a measured number) and
from the chosen labels' evidence; nothing about the scene, clothing or setting is said, because nothing
here measures it.
"""

from __future__ import annotations

from omni_emotion.engines.fusion import NEAR_NORM, Label

__all__ = ["explain"]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def explain(visual: str, acoustic: str, textual: str, labels: list[Label]) -> str:
    """One English paragraph from the clue sentences and the labels (most salient first)."""
    parts = [s for s in (visual, acoustic, textual) if s]
    if not parts:
        parts.append("The clip offers no visible face, no speech and no words to go on.")
    words = [lab.word for lab in labels]
    # "weak" only when nothing measured supports neutral either
    if not words or (words == ["neutral"] and labels[0].evidence in ([], [NEAR_NORM])):
        parts.append("Taken together, the clues are weak, so the person most likely feels neutral.")
    else:
        first = labels[0]
        why = "; ".join(first.evidence[:2])
        parts.append(f"Taken together, the person most likely feels {_join(words)}, "
                     f"with {first.word} the clearest ({why}).")
    return " ".join(parts)
