"""Turn an Analysis (and the perception behind it) into what the page shows: label chips, clue cards,
an expression-over-time plot and face thumbnails. Pure functions; no Gradio here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from omni_emotion.types import Analysis, FaceTrack
from omni_emotion.ui.colours import OTHER_COLOUR, label_colour, label_family
from omni_emotion.ui.reading import glossary_for, plain, without_repeats

__all__ = [
    "MODALITY_NAMES",
    "chips_html",
    "clues_markdown",
    "empty_card",
    "explanation_markdown",
    "expression_figure",
    "face_sheet",
    "face_thumbnails",
    "figures_markdown",
    "message_figure",
]

# The clue modalities in plain words, in the order the page lists them.
MODALITY_NAMES = (("visual", "Face"), ("acoustic", "Voice"), ("textual", "Words"))

MAIN_COLOUR = (34, 170, 85)  # RGB frame and tag of the main person's thumbnail
_OTHER_FRAME = (200, 205, 210)

_CHIP = (
    '<span class="oe-chip" title="{title}" style="background:{colour};color:{ink};border-radius:999px;'
    'padding:4px 12px;margin:3px;display:inline-block;font-weight:600">{label}</span>'
)


def _ink(colour: str) -> str:
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"


def chips_html(
    labels: Sequence[str], evidence: dict[str, list[str]] | None = None, *, empty: str = ""
) -> str:
    """Labels as chips coloured by emotion family (most salient first); each chip's evidence shows on
    hover and as a list below the chips."""
    if not labels:
        return (
            f'<div class="oe-labels oe-empty">{html.escape(empty)}</div>'
            if empty
            else '<div class="oe-labels"></div>'
        )
    evidence = evidence or {}
    chips = []
    for label in labels:
        colour = label_colour(label)
        reasons = evidence.get(label, [])
        family = label_family(label) or "other"
        title = f"{family}" + ("".join(f"\n- {r}" for r in reasons) if reasons else "")
        chips.append(
            _CHIP.format(
                title=html.escape(title, quote=True),
                colour=colour,
                ink=_ink(colour),
                label=html.escape(label),
            )
        )
    rows = [
        f"<li><b>{html.escape(label)}</b>: {html.escape('; '.join(evidence[label]))}</li>"
        for label in labels
        if evidence.get(label)
    ]
    below = f'<ul class="oe-evidence" style="margin-top:6px">{"".join(rows)}</ul>' if rows else ""
    return f'<div class="oe-labels">{"".join(chips)}{below}</div>'


def _clue_texts(analysis: Analysis) -> list[str]:
    clues = analysis.clues.to_dict()
    return [clues[key] for key, _ in MODALITY_NAMES if clues[key].strip()]


def explanation_markdown(analysis: Analysis) -> str:
    """The engine's explanation as the page leads with it: without the sentences the clues below say word
    for word, and with its figures moved to ``figures_markdown``."""
    text = plain(without_repeats(analysis.explanation, _clue_texts(analysis)))
    return text or "_No explanation._"


def clues_markdown(analysis: Analysis) -> str:
    """The three per-modality clues in plain words (figures in ``figures_markdown``); an absent modality
    says so instead of disappearing."""
    clues = analysis.clues.to_dict()
    parts = []
    for key, name in MODALITY_NAMES:
        text = plain(clues[key])
        parts.append(f"**{name}:** {text if text else '_nothing to read: absent from this clip_'}")
    return "\n\n".join(parts)


def figures_markdown(analysis: Analysis) -> str:
    """The engine's sentences with their figures, as it wrote them, and what each measure they name means."""
    clues = analysis.clues.to_dict()
    parts = [f"**Explanation:** {analysis.explanation.strip() or '_none_'}"]
    parts += [f"**{name}:** {clues[key].strip()}" for key, name in MODALITY_NAMES if clues[key].strip()]
    reasons = [r for rs in analysis.evidence.values() for r in rs]
    terms = glossary_for([analysis.explanation, *clues.values(), *reasons])
    if terms:
        parts.append("**Terms**\n\n" + "\n".join(f"- **{term}**: {meaning}" for term, meaning in terms))
    return "\n\n".join(parts)


def empty_card(message: str, width: int = 480, height: int = 200) -> np.ndarray:
    """A light grey (height, width, 3) uint8 RGB image with ``message`` centred: what an image panel shows
    when there is nothing to show."""
    import cv2

    card = np.full((height, width, 3), 243, np.uint8)
    scale, thickness = 0.6, 1
    (tw, th), _ = cv2.getTextSize(message, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    origin = (max(4, (width - tw) // 2), (height + th) // 2)
    cv2.putText(card, message, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (90, 98, 108), thickness, cv2.LINE_AA)
    return card


def expression_figure(
    times: np.ndarray,
    scores: np.ndarray,
    classes: Sequence[str],
    colours: Sequence[str] | None = None,
    title: str = "Facial expression over time",
):
    """A matplotlib Figure of per-class scores over time. times (T,) seconds, scores (T, C) in [0, 1].

    Returns None when there is nothing to plot (no face was seen)."""
    import matplotlib

    matplotlib.use("Agg")  # the server has no display; Figure objects are rendered by Gradio
    from matplotlib.figure import Figure

    times, scores = np.asarray(times, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if times.size == 0 or scores.ndim != 2 or scores.shape[0] != times.size:
        return None
    fig = Figure(figsize=(7, 2.8), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    for c, name in enumerate(classes):
        colour = colours[c] if colours else OTHER_COLOUR
        marker = "o" if times.size < 3 else None
        ax.plot(times, scores[:, c], label=name, color=colour, linewidth=1.8, marker=marker)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1.03)  # a class at 1.0 stays visible above the frame line
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def message_figure(message: str):
    """A figure that only says ``message``: what the plot panel shows when there is nothing to plot."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 1.2), dpi=100)
    fig.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#5a626c")
    return fig


def face_thumbnails(faces: Sequence[FaceTrack], limit: int = 8) -> list[tuple[np.ndarray, str]]:
    """(image, caption) per tracked person, main person first, captioned "#id (main)". Uses each track's
    middle aligned crop; tracks without crops are left out."""
    ordered = sorted(faces, key=lambda f: (not f.main, -len(f.timestamps), f.track_id))
    out: list[tuple[np.ndarray, str]] = []
    for face in ordered[:limit]:
        if face.crops is None or len(face.crops) == 0:
            continue
        crop = np.asarray(face.crops[len(face.crops) // 2])
        caption = (
            f"#{face.track_id}" + (" (main)" if face.main else "") + f" {face.start:.1f}-{face.end:.1f}s"
        )
        out.append((crop, caption))
    return out


def faces_table(faces: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Rows for a faces table from ``Analysis.faces`` summaries."""
    keys = ("track_id", "main", "start_s", "end_s", "detections", "mean_face_px", "mean_score")
    return [[f.get(k, "") for k in keys] for f in faces]


def face_sheet(faces: Sequence[FaceTrack], size: int = 160, limit: int = 8) -> np.ndarray | None:
    """One image with a thumbnail per tracked person side by side, main person first in a green frame, each
    captioned "#id main" / "#id" and its time span. Returns (size + 28, n * (size + 8), 3) uint8 RGB, or
    None when no track has crops. (One image, not a gallery: a one-item gallery opens as a cropped preview.)"""
    import cv2

    thumbs = face_thumbnails(faces, limit)
    if not thumbs:
        return None
    ordered = sorted(faces, key=lambda f: (not f.main, -len(f.timestamps), f.track_id))
    mains = [f.main for f in ordered if f.crops is not None and len(f.crops)][: len(thumbs)]
    pad, caption_h = 4, 28
    sheet = np.full((size + caption_h, len(thumbs) * (size + 2 * pad), 3), 255, np.uint8)
    for i, ((crop, caption), main) in enumerate(zip(thumbs, mains)):
        x = i * (size + 2 * pad)
        frame_colour = MAIN_COLOUR if main else _OTHER_FRAME
        sheet[0 : size + 2 * pad, x : x + size + 2 * pad] = frame_colour
        sheet[pad : pad + size, x + pad : x + pad + size] = cv2.resize(
            np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA
        )
        text = caption.replace(" (main)", " main")
        cv2.putText(
            sheet,
            text,
            (x + pad, size + caption_h - 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            MAIN_COLOUR if main else (60, 60, 60),
            1,
            cv2.LINE_AA,
        )
    return sheet
