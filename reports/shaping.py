"""Shape a word set in more than one font one font at a time.

reportlab 5.1.0 shapes each "frag word" (text between spaces) with the
HarfBuzz face of the word's *first* font and then looks every glyph up in
the font of the fragment it came from. A word whose letters come from two
fonts, such as a hyphenated name "محمد-Smith" (Noto Sans Arabic, then
DejaVu Sans) or "١=A0", gets glyph numbers of the wrong font and crashes in
``shapeFragWord`` (``'TTFont' object has no attribute 'hbAddPrivate'``).
The fuzz test of ``stepback report`` found it with a clinic name.

:func:`install` wraps reportlab's ``shapeFragWord`` where paragraphs call it:
a word in one font goes to reportlab unchanged; a word in several fonts is
cut into its single-font runs, each run is shaped by reportlab on its own,
and the runs are joined back into one word (so no space, and no line
break, appears between them). Words holding inline objects (``cbDefn``
fragments, which our plain-text markup never makes) go to reportlab
unchanged. Shaping uses :data:`FEATURES`, without discretionary ligatures.
"""

from __future__ import annotations

import functools

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.platypus import paragraph

_REPORTLAB_SHAPE = ttfonts.shapeFragWord
#: HarfBuzz features: kerning and standard ligatures, as browsers set them.
#: reportlab's default also turns on discretionary ligatures ("dlig"), with which
#: Noto Sans Arabic draws the name "محمد" as one vowelled ligature (U+FDF4), so
#: the PDF showed marks the clinician never typed and its text no longer read "محمد".
FEATURES = {"kern": True, "liga": True}


def shape_word(word, features=None, force=False):
    """reportlab's ``shapeFragWord`` for ``word``, one font run at a time.

    Parameters
    ----------
    word : list
        A reportlab frag word: ``[width, (frag, text), (frag, text), ...]``.
    features : dict, optional
        HarfBuzz features (:data:`FEATURES` when omitted).
    force : bool
        As in reportlab: return a shaped word even when shaping changed nothing.

    Returns
    -------
    list
        ``word`` itself when shaping changed nothing, else a shaped frag word.
    """
    kwargs = {"features": FEATURES if features is None else features, "force": force}
    if isinstance(word, ttfonts.ShapedFragWord):
        return word
    pairs = word[1:]
    if any(hasattr(frag, "cbDefn") for frag, _ in pairs) or len({frag.fontName for frag, _ in pairs}) < 2:
        return _REPORTLAB_SHAPE(word, **kwargs)
    runs: list[list] = []
    for frag, text in pairs:
        if runs and runs[-1][0][0].fontName == frag.fontName:
            runs[-1].append((frag, text))
        else:
            runs.append([(frag, text)])
    width = 0.0
    shaped_pairs = []
    for run in runs:
        run_width = sum(pdfmetrics.stringWidth(text, frag.fontName, frag.fontSize) for frag, text in run)
        # force: every part of the joined word is a ShapedStr, as reportlab makes them
        shaped = _REPORTLAB_SHAPE(word.__class__([run_width, *run]), **{**kwargs, "force": True})
        width += shaped[0]
        shaped_pairs.extend(shaped[1:])
    return ttfonts.makeShapedFragWord(word)([width, *shaped_pairs])


@functools.cache
def install() -> None:
    """Make reportlab's paragraphs shape through :func:`shape_word` (once per process)."""
    paragraph.shapeFragWord = shape_word
