"""Fonts for every script a patient's name may be written in.

The bundled DejaVu Sans (Latin, Greek, Cyrillic) is the base face; Noto Sans
Arabic, Hebrew, Devanagari and Thai, Droid Sans Fallback (CJK Unified
Ideographs and extension A, kana) and NanumGothic (Hangul) cover the rest. All are plain reportlab
``TTFont`` objects (glyph outlines in ``glyf``, shapable through uharfbuzz),
registered once per process. :func:`markup` turns plain text into
Paragraph markup whose runs of other scripts are wrapped in ``<font>`` tags
naming the font that has their glyphs; :func:`text_features` tells the
renderer whether a text needs shaping (Arabic, Devanagari, Thai), holds
right-to-left runs (Arabic, Hebrew: shaped too, so they are laid out right
to left) or needs CJK line breaking.
"""

from __future__ import annotations

import functools
import unicodedata
from importlib import resources
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from . import shaping

#: Base face: (regular, bold) registered names.
BASE = ("DejaVuSans", "DejaVuSans-Bold")
#: Fallback faces in search order: (regular name, bold name, regular file, bold file).
FALLBACKS = (
    ("NotoSansArabic", "NotoSansArabic-Bold", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    ("NotoSansHebrew", "NotoSansHebrew-Bold", "NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    ("NotoSansDevanagari", "NotoSansDevanagari-Bold", "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    ("NotoSansThai", "NotoSansThai-Bold", "NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    # Droid Sans Fallback (CJK ideographs, kana) and NanumGothic (Hangul) ship without
    # a bold file (size); their regular face serves both. Both files are unmodified:
    # NanumGothic's licence reserves its name, so it is not subset.
    ("DroidSansFallback", "DroidSansFallback", "DroidSansFallbackFull.ttf", "DroidSansFallbackFull.ttf"),
    ("NanumGothic", "NanumGothic", "NanumGothic.ttf", "NanumGothic.ttf"),
)
_FILES = {"DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf"}
_REGULAR = {BASE[0]: BASE[0], BASE[1]: BASE[0]}
for _reg, _bold, _rfile, _bfile in FALLBACKS:
    _FILES[_reg] = _rfile
    _FILES[_bold] = _bfile
    _REGULAR[_reg] = _REGULAR[_bold] = _reg

#: Code point ranges that always take a fallback face, even where DejaVu Sans has
#: some of their letters (its Arabic and Hebrew lack the shaping tables Noto has).
_SCRIPT_RANGES = {
    "NotoSansArabic": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "NotoSansHebrew": ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)),
    "NotoSansDevanagari": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "NotoSansThai": ((0x0E00, 0x0E7F),),
}
#: Scripts that need shaping (contextual forms, conjuncts, mark placement).
_SHAPED = ("ARABIC", "DEVANAGARI", "THAI")
_RTL = ("ARABIC", "HEBREW")
_CJK = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "BOPOMOFO")


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register the base and fallback fonts once per process; return the base (regular, bold).

    Returns
    -------
    tuple of str
        Registered names of DejaVu Sans regular and bold.
    """
    folder = resources.files("reports.fonts")
    for name, file in _FILES.items():
        with resources.as_file(folder.joinpath(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(BASE[0], normal=BASE[0], bold=BASE[1], italic=BASE[0], boldItalic=BASE[1])
    shaping.install()  # a word in two fonts (a name "محمد-Smith") is shaped one font at a time
    return BASE


@functools.cache
def _charmap(name: str) -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)


@functools.lru_cache(maxsize=65536)
def font_for(char: str, bold: bool = False) -> str:
    """The registered name of the font that draws ``char``.

    Arabic, Hebrew, Devanagari and Thai letters take their Noto face; any
    other character the first of the base and the fallbacks with its glyph.

    Parameters
    ----------
    char : str
        One character.
    bold : bool
        Whether the bold face is wanted.

    Returns
    -------
    str
        The base face when no font has the glyph (it then prints as a box).
    """
    code = ord(char)
    for regular, bold_name, _, _ in FALLBACKS:
        if any(lo <= code <= hi for lo, hi in _SCRIPT_RANGES.get(regular, ())):
            return bold_name if bold else regular
    if code in _charmap(BASE[0]):
        return BASE[1] if bold else BASE[0]
    for regular, bold_name, _, _ in FALLBACKS:
        if code in _charmap(regular):
            return bold_name if bold else regular
    return BASE[1] if bold else BASE[0]


@functools.cache
def _base_only() -> frozenset[int]:
    """Code points the base face draws (its charmap less the fallback scripts' ranges)."""
    ranges = [r for rs in _SCRIPT_RANGES.values() for r in rs]
    return frozenset(c for c in _charmap(BASE[0]) if not any(lo <= c <= hi for lo, hi in ranges))


_RTL_FONTS = ("NotoSansArabic", "NotoSansHebrew")


def _in_script(char: str) -> bool:
    """Whether ``char`` lies in one of the fallback scripts' own ranges (an Arabic-Indic digit)."""
    code = ord(char)
    return any(lo <= code <= hi for ranges in _SCRIPT_RANGES.values() for lo, hi in ranges)


def _is_rtl_letter(char: str) -> bool:
    return unicodedata.name(char, "").startswith(_RTL)


@functools.lru_cache(maxsize=8192)
def runs(text: str, bold: bool = False) -> tuple[tuple[str, str], ...]:
    """Split ``text`` into (font name, text) runs, each run drawn with one font.

    Letters, and any character of the fallback scripts' own blocks (an
    Arabic-Indic digit), take the first font that has them; spaces,
    punctuation, digits and combining marks stay in the current run when its
    font has them, except that after an Arabic or Hebrew run they go with a
    following Latin word. So no run mixes a right-to-left script with another
    one, and HarfBuzz, which takes a run's direction from its first letter,
    lays each run out in its own direction.

    Parameters
    ----------
    text : str
    bold : bool

    Returns
    -------
    tuple of (str, str)
    """
    if text.isascii() or _base_only().issuperset(map(ord, text)):
        return ((BASE[1] if bold else BASE[0], text),)
    out: list[list[str]] = []
    # whether the next letter after each position is right-to-left: a hyphen or a
    # full stop between an Arabic or Hebrew word and a Latin one (or the end) goes
    # with the Latin side, else shaping draws it on the far side of the RTL word
    next_rtl = [False] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        char = text[i]
        next_rtl[i] = _is_rtl_letter(char) if unicodedata.category(char).startswith("L") else next_rtl[i + 1]
    for i, char in enumerate(text):
        if out and not unicodedata.category(char).startswith("L") and not _in_script(char) \
                and ord(char) in _charmap(_REGULAR[out[-1][0]]) \
                and (_REGULAR[out[-1][0]] not in _RTL_FONTS or next_rtl[i + 1]):
            font = out[-1][0]
        else:
            font = font_for(char, bold)
        if out and out[-1][0] == font:
            out[-1][1] += char
        else:
            out.append([font, char])
    return tuple((f, t) for f, t in out)


@functools.lru_cache(maxsize=8192)
def markup(text: str, bold: bool = False) -> str:
    """Paragraph markup for plain ``text``: escaped, other scripts in ``<font>`` tags.

    Parameters
    ----------
    text : str
        Plain text (never markup: ``<`` and ``&`` are escaped).
    bold : bool
        Whether the paragraph's font is the bold face.

    Returns
    -------
    str
    """
    base = BASE[1] if bold else BASE[0]
    parts = []
    for font, chunk in runs(text, bold):
        chunk = escape(chunk)
        parts.append(chunk if font == base else f'<font name="{font}">{chunk}</font>')
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def text_features(text: str) -> tuple[bool, bool, bool]:
    """(needs shaping, has right-to-left text, has CJK text) for ``text``."""
    shaped = rtl = cjk = False
    for char in text:
        if ord(char) < 0x0590:
            continue
        name = unicodedata.name(char, "")
        shaped |= name.startswith(_SHAPED)
        rtl |= name.startswith(_RTL)
        cjk |= name.startswith(_CJK)
    return shaped, rtl, cjk
