"""What the desktop window shows, drawn with PIL: the frame with face boxes ("#id expression p%"), and a side
panel with the status line, the label chips in family colours and the recent analyses (transcript and
explanation, wrapped, newest first). The same content as the browser's Live tab.

``Painter.paint`` is a pure function of its arguments apart from a cache of the last panel, which only
changes when a new analysis arrives (the status line is drawn on a copy every frame).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from omni_emotion.desktop.fonts import Fonts
from omni_emotion.live import LiveFace
from omni_emotion.ui.colours import expression_colour, label_colour
from omni_emotion.ui.draw import hex_to_rgb

__all__ = ["MORE_BELOW", "Painter", "PanelEntry", "PanelView", "loading_card", "wrap_text"]

PANEL_BG = (30, 34, 39)
PANEL_INK = (232, 234, 237)
PANEL_DIM = (150, 158, 166)
STATUS_BAND = 30  # px: the status line's band at the top of the panel
PAD = 10  # px
KEYS_HINT = "q quit · space pause · s save · m mirror · ↑↓ scroll"
MORE_BELOW = "… more below (↓ scrolls)"

# One breakable unit each: a CJK ideograph/kana/hangul or full-width sign, a run of spaces, or a word.
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_UNITS = re.compile(f"[{_CJK}]|\\s+|[^\\s{_CJK}]+")


def wrap_text(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy line breaking of ``text`` into lines no wider than ``width`` (in ``measure``'s units).

    Latin text breaks at spaces, CJK text between any two characters; a word wider than a line is cut
    between characters. Lines carry no leading or trailing spaces; newlines in ``text`` are kept."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for unit in _UNITS.findall(paragraph):
            if unit.isspace():
                line += " " if line else ""
                continue
            if measure(line + unit) <= width:
                line += unit
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = ""
            for char in unit:  # a unit wider than a whole line is cut between characters
                if line and measure(line + char) > width:
                    lines.append(line)
                    line = ""
                line += char
        if line.strip() or not lines or not paragraph.strip():
            lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class PanelEntry:
    """One finished analysis as the panel lists it. ``t``: session seconds of the newest analysed input."""

    t: float
    transcript: str
    explanation: str
    error: str = ""


@dataclass(frozen=True)
class PanelView:
    """Everything the panel shows apart from the status line."""

    labels: tuple[str, ...] = ()
    entries: tuple[PanelEntry, ...] = ()  # newest first
    waiting: str = "Waiting for the first analysis (about a second after the stream starts)."
    scroll: int = 0  # lines of the history scrolled past (the arrow keys)


def _ink(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white text, whichever reads better on ``fill`` (ITU-R BT.601 luma)."""
    return (0, 0, 0) if 0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2] > 150 else (255, 255, 255)


class Painter:
    """Draws window canvases (H, W + panel_width, 3) uint8 RGB with one set of fonts."""

    def __init__(self, fonts: Fonts, panel_width: int = 440, min_height: int = 480) -> None:
        self.fonts = fonts
        self.panel_width = panel_width
        self.min_height = min_height
        self._panel_key: tuple[PanelView, int] | None = None
        self._panel: Image.Image | None = None

    def paint(
        self, frame: np.ndarray, faces: Sequence[LiveFace], view: PanelView, status: str, mirror: bool = False
    ) -> np.ndarray:
        """The whole window for one (H, W, 3) uint8 RGB frame and the faces found in it (unmirrored boxes)."""
        height, width = frame.shape[:2]
        canvas = Image.new("RGB", (width + self.panel_width, max(height, self.min_height)), PANEL_BG)
        shown = np.ascontiguousarray(frame[:, ::-1]) if mirror else frame
        canvas.paste(Image.fromarray(shown), (0, 0))
        draw = ImageDraw.Draw(canvas)
        for face in faces:
            self._face(draw, face, width, height, mirror)
        canvas.paste(self._panel_image(view, canvas.height), (width, 0))
        draw.text((width + PAD, 6), status, font=self.fonts.small, fill=PANEL_INK)
        return np.asarray(canvas)

    def _face(self, draw: ImageDraw.ImageDraw, face: LiveFace, width: int, height: int, mirror: bool) -> None:
        x1, y1, x2, y2 = face.box
        if mirror:
            x1, x2 = width - x2, width - x1
        colour = hex_to_rgb(expression_colour(face.expression))
        line = max(2, round(width / 320))
        draw.rectangle((round(x1), round(y1), round(x2), round(y2)), outline=colour, width=line)
        tag = f"#{face.track_id}"
        if face.expression:
            tag += f" {face.expression} {max(face.probabilities):.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), tag, font=self.fonts.small)
        tag_w, tag_h = right - left + 8, bottom - top + 8
        ty = y1 - tag_h if y1 - tag_h >= 0 else min(y2, height - tag_h)
        tx = min(max(0, x1), max(0, width - tag_w))
        draw.rectangle((round(tx), round(ty), round(tx + tag_w), round(ty + tag_h)), fill=colour)
        draw.text((tx + 4 - left, ty + 4 - top), tag, font=self.fonts.small, fill=_ink(colour))

    def _panel_image(self, view: PanelView, height: int) -> Image.Image:
        key = (view, height)
        if key != self._panel_key or self._panel is None:
            self._panel, self._panel_key = self._draw_panel(view, height), key
        return self._panel

    def _draw_panel(self, view: PanelView, height: int) -> Image.Image:
        panel = Image.new("RGB", (self.panel_width, height), PANEL_BG)
        draw = ImageDraw.Draw(panel)
        fonts, inner = self.fonts, self.panel_width - 2 * PAD
        hint_h = draw.textbbox((0, 0), KEYS_HINT, font=fonts.small)[3] + PAD
        bottom = height - hint_h - PAD
        draw.text((PAD, height - hint_h), KEYS_HINT, font=fonts.small, fill=PANEL_DIM)
        y = STATUS_BAND + 4
        y = self._chips(draw, view.labels, y) if view.labels else y
        if not view.entries:
            for line in wrap_text(view.waiting, inner, lambda s: draw.textlength(s, font=fonts.text)):
                y = self._line(draw, line, y, fonts.text, PANEL_DIM, bottom)
            return panel
        # every line of the history, wrapped to the panel; drawn from the scroll offset down, and a line that
        # does not fit is never cut: the last row then says there is more below
        rows: list[tuple[str, object, tuple[int, int, int]]] = []
        for entry in view.entries:
            rows.append(("", None, PANEL_DIM))  # the separator rule
            rows.append((f"{entry.t:.1f} s", fonts.small, PANEL_DIM))
            paragraphs = [(f'"{entry.transcript}"', PANEL_INK)] if entry.transcript else []
            paragraphs.append(
                (entry.error, (240, 128, 128)) if entry.error else (entry.explanation, PANEL_DIM)
            )
            for text, colour in paragraphs:
                rows += [
                    (line, fonts.text, colour)
                    for line in wrap_text(text, inner, lambda s: draw.textlength(s, font=fonts.text))
                ]
        more_h = self._height(fonts.small)
        for i, (text, font, colour) in enumerate(rows[min(view.scroll, max(0, len(rows) - 1)) :]):
            height = PAD // 2 + 5 if font is None else self._height(font)
            last = i == len(rows) - 1 - min(view.scroll, max(0, len(rows) - 1))
            if y + height + (0 if last else more_h) > bottom:
                self._line(draw, MORE_BELOW, y, fonts.small, PANEL_INK, bottom)
                break
            if font is None:
                rule_y = y + PAD // 2
                draw.line((PAD, rule_y, self.panel_width - PAD, rule_y), fill=(70, 76, 84), width=1)
                y += height
            else:
                y = self._line(draw, text, y, font, colour, bottom)
        return panel

    @staticmethod
    def _height(font) -> int:
        return round(font.size * 1.3) if hasattr(font, "size") else 16

    def history_rows(self, view: PanelView) -> int:
        """How many rows the history has (the window stops scrolling past the last)."""
        draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        inner = self.panel_width - 2 * PAD
        count = 0
        for entry in view.entries:
            count += 2
            said = [f'"{entry.transcript}"'] if entry.transcript else []
            for text in [*said, entry.error or entry.explanation]:
                count += len(wrap_text(text, inner, lambda s: draw.textlength(s, font=self.fonts.text)))
        return count

    def _line(self, draw: ImageDraw.ImageDraw, text: str, y: int, font, fill, bottom: int) -> int:
        """Draw one line at ``y`` unless it would cross ``bottom``; returns the next line's y."""
        line_h = self._height(font)
        if y + line_h <= bottom:
            draw.text((PAD, y), text, font=font, fill=fill)
        return y + line_h

    def _chips(self, draw: ImageDraw.ImageDraw, labels: Sequence[str], y: int) -> int:
        """Label chips in family colours, wrapping onto new rows; returns the y below them."""
        font, x = self.fonts.title, PAD
        _left, top, _right, bottom = draw.textbbox((0, 0), "Ag", font=font)
        chip_h = bottom - top + 12
        for label in labels:
            text_w = draw.textlength(label, font=font)
            chip_w = round(text_w) + 18
            if x + chip_w > self.panel_width - PAD and x > PAD:
                x, y = PAD, y + chip_h + 6
            fill = hex_to_rgb(label_colour(label))
            draw.rounded_rectangle((x, y, x + chip_w, y + chip_h), radius=chip_h // 2, fill=fill)
            draw.text((x + 9, y + 6 - top), label, font=font, fill=_ink(fill))
            x += chip_w + 6
        return y + chip_h + PAD


def loading_card(fonts: Fonts, message: str, width: int = 1080, height: int = 480) -> np.ndarray:
    """What the window shows while the models load: the panel colours, ``message`` and the keys hint.
    (height, width, 3) uint8 RGB."""
    canvas = Image.new("RGB", (width, height), PANEL_BG)
    draw = ImageDraw.Draw(canvas)
    y = height // 2 - 30
    for line in wrap_text(message, width - 8 * PAD, lambda s: draw.textlength(s, font=fonts.title)):
        draw.text((4 * PAD, y), line, font=fonts.title, fill=PANEL_INK)
        y += round(getattr(fonts.title, "size", 20) * 1.4)
    draw.text((4 * PAD, height - 3 * PAD), "q quits", font=fonts.small, fill=PANEL_DIM)
    return np.asarray(canvas)
