"""A real font for the window's text, one with Chinese, Japanese and Korean glyphs when the system has one.

OpenCV's Hershey fonts are ASCII only, so a Chinese transcript drawn with them is a row of question marks.
fontconfig (``fc-list :lang=zh``) names the installed fonts that cover Chinese; Noto Sans CJK (Debian:
fonts-noto-cjk) is what the project installs. Without one the window falls back to a Latin font and says so
in one sentence.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from omni_emotion.errors import ConfigError

__all__ = ["FontFace", "Fonts", "find_cjk_font", "load_fonts", "pick_font"]

logger = logging.getLogger(__name__)

# Where Debian/Ubuntu/Fedora put CJK fonts, for machines without fontconfig's command-line tools.
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
LATIN_FALLBACKS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
NO_CJK_FONT = (
    "No font with Chinese, Japanese or Korean glyphs was found (Debian: apt-get install fonts-noto-cjk),"
    " so such text shows as boxes."
)


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a .ttc holds several; ``index`` picks one)."""

    path: str
    index: int = 0
    family: str = ""
    style: str = ""


def _rank(face: FontFace) -> tuple[int, int, int, int]:
    """Smaller is better: sans before serif, proportional before mono, Regular first, Simplified Chinese
    shapes first (the transcripts the app sees most are Mandarin)."""
    text = f"{face.family} {face.style} {Path(face.path).name}".lower()
    return (
        int("serif" in text.replace("sans serif", "")),
        int("mono" in text),
        0 if face.style.lower() in ("regular", "book", "") else 1,
        0 if " sc" in f" {face.family.lower()}" or face.family.lower().endswith(" sc") else 1,
    )


def pick_font(faces: list[FontFace]) -> FontFace | None:
    """The best face for the window's text, or None for an empty list."""
    return min(faces, key=lambda f: (_rank(f), f.path, f.index), default=None)


def _fontconfig_cjk() -> list[FontFace]:
    if shutil.which("fc-list") is None:
        return []
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "-f", "%{file}|%{index}|%{family[0]}|%{style[0]}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    faces = []
    for line in out.splitlines():
        parts = line.split("|")
        if (
            len(parts) == 4
            and parts[1].isdigit()
            and Path(parts[0]).suffix.lower() in (".ttf", ".ttc", ".otf", ".otc")
        ):
            faces.append(FontFace(parts[0], int(parts[1]), parts[2], parts[3]))
    return faces


def find_cjk_font() -> FontFace | None:
    """The best installed font covering Chinese: fontconfig's answer, else a known path."""
    face = pick_font(_fontconfig_cjk())
    if face is not None:
        return face
    for path in KNOWN_CJK_FONTS:
        if Path(path).is_file():
            # in Noto's collection index 2 is the Simplified Chinese face
            return FontFace(path, 2 if "NotoSansCJK" in path else 0)
    return None


@dataclass(frozen=True)
class Fonts:
    """The sizes the window draws with. ``cjk`` says whether Chinese/Japanese/Korean glyphs are present."""

    text: ImageFont.FreeTypeFont | ImageFont.ImageFont
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont
    title: ImageFont.FreeTypeFont | ImageFont.ImageFont
    cjk: bool
    path: str


def _sizes(
    path: str, index: int, size: int
) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    """The text, small and title fonts, in that order."""

    def font(points: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, points, index=index)

    return font(size), font(round(size * 0.85)), font(round(size * 1.15))


def load_fonts(path: str | None = None, size: int = 17) -> Fonts:
    """Fonts from ``path`` (a .ttf/.ttc/.otf the user chose) or the best CJK font installed; a Latin font,
    with a one-sentence warning, when neither exists."""
    if path:
        if not Path(path).is_file():
            raise ConfigError(f"The font {path} does not exist.")
        try:
            text, small, title = _sizes(path, 0, size)
        except OSError as err:
            raise ConfigError(f"The font {path} is not a TrueType or OpenType font.") from err
        return Fonts(text, small, title, cjk=True, path=path)
    face = find_cjk_font()
    if face is not None:
        return Fonts(*_sizes(face.path, face.index, size), cjk=True, path=face.path)
    logger.warning(NO_CJK_FONT)
    for fallback in LATIN_FALLBACKS:
        if Path(fallback).is_file():
            return Fonts(*_sizes(fallback, 0, size), cjk=False, path=fallback)
    default = ImageFont.load_default(size)
    return Fonts(
        default,
        ImageFont.load_default(round(size * 0.85)),
        ImageFont.load_default(round(size * 1.15)),
        cjk=False,
        path="",
    )
