"""The desktop window as a person meets it: a "loading models" card at once, a history that scrolls instead of
being cut, and one line on the run when it closes."""

from __future__ import annotations

import threading

import numpy as np

from omni_emotion.desktop.app import _load_showing_card
from omni_emotion.desktop.fonts import load_fonts
from omni_emotion.desktop.overlay import Painter, PanelEntry, PanelView
from omni_emotion.desktop.window import WindowStats, action_for_key


class CardDisplay:
    def __init__(self, quit_after: int | None = None) -> None:
        self.shown: list[np.ndarray] = []
        self.quit_after = quit_after

    def show(self, canvas):
        self.shown.append(canvas)

    def key(self) -> str:
        return "q" if self.quit_after is not None and len(self.shown) >= self.quit_after else ""

    def closed_by_user(self) -> bool:
        return False


def test_the_window_shows_a_loading_card_while_the_models_load():
    release = threading.Event()
    display = CardDisplay()

    def load():
        release.wait(5)
        return "pipeline"

    timer = threading.Timer(0.5, release.set)
    timer.start()
    assert _load_showing_card(display, load_fonts(), load) == "pipeline"
    assert len(display.shown) >= 2  # shown before the models were there, and kept answering
    card = display.shown[0]
    assert (
        card.ndim == 3 and len(np.unique(card.reshape(-1, 3), axis=0)) > 2
    )  # words on it, not a black screen


def test_quitting_while_loading_closes_at_once():
    release = threading.Event()
    display = CardDisplay(quit_after=2)
    assert _load_showing_card(display, load_fonts(), lambda: release.wait(10)) is None
    release.set()


def test_a_long_explanation_scrolls_inside_the_panel():
    painter = Painter(load_fonts(), panel_width=300)
    long = " ".join(["The voice is loud and fast, and the words are negative."] * 30)
    view = PanelView(labels=("angry",), entries=(PanelEntry(5.0, "", long),))
    frame = np.zeros((360, 640, 3), np.uint8)
    top = painter.paint(frame, [], view, "")
    assert painter.history_rows(view) > 30
    scrolled = painter.paint(frame, [], PanelView(labels=view.labels, entries=view.entries, scroll=9), "")
    panel = (slice(60, 440), slice(640, 940))
    assert not np.array_equal(top[panel], scrolled[panel])
    assert [action_for_key(k) for k in ("Up", "Down")] == ["scroll_up", "scroll_down"]


def test_the_run_ends_with_one_line_on_what_it_did():
    stats = WindowStats(  # the line gives the run's average rate, not the status line's smoothed one
        frames=412, fps=29.0, updates=30, lags_s=[1.0, 2.0, 3.0], labels_seen=["happy", "calm"], seconds=33.4
    )
    line = stats.summary()
    assert "\n" not in line
    assert line == (
        "omni-emotion live: 412 frames in 33.4 s (12.3 frames/s); 30 analyses, labels 2.0 s behind "
        "on average (max 3.0 s); labels seen: happy, calm"
    )
