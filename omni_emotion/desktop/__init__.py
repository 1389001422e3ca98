"""The desktop live window (`omni-emotion live`): sources, drawing with a CJK-capable font, the window loop."""

from omni_emotion.desktop.app import DesktopOptions, run_desktop

__all__ = ["DesktopOptions", "run_desktop"]
