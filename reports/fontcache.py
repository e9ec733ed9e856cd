"""A TrueType font that embeds each glyph subset once per process, not once per PDF.

reportlab embeds a fresh subset of the font in every document: it rebuilds
the subset's TrueType file from the full font, deflates it, writes its
ToUnicode map and its widths (about 2 ms per font and document, a fifth of a
clinician report's render time). Reports drawn with the same characters in
the same order get the same subsets, so :class:`SubsetCachingTTFont` keeps
the finished parts of every subset it has embedded (keyed by the subset's
index and character codes) and reuses them.

It also maps printable ASCII text straight to its codes: with reportlab's
default ``ttfAsciiReadable``, characters 32–126 always sit at their own code
in subset 0, which ``TTFont.splitString`` otherwise works out one character
at a time for every string drawn.

The PDF is byte-for-byte what reportlab's :class:`TTFont` writes (same
objects, same order); ``tests/reports`` checks that.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap

#: Subsets kept per font (a deflated subset of DejaVu Sans is about 20 kB).
CACHE_SIZE = 128


class _Formatted(pdfdoc.PDFObject):
    """A PDF value already formatted (the bytes reportlab would write for it)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document) -> bytes:
        return self.data


@dataclass(frozen=True)
class _Embedded:
    """The document-independent parts of one embedded subset."""

    widths: bytes  # the formatted /Widths array
    cmap: str | bytes  # the ToUnicode CMap (text; deflated bytes when ``compressed``)
    font_file: bytes  # the subset TrueType file (deflated when ``compressed``)
    font_file_length: int  # its length before deflating (/Length1)
    compressed: bool


def _stream(content: str | bytes, compressed: bool) -> pdfdoc.PDFStream:
    stream = pdfdoc.PDFStream()
    stream.content = content
    if compressed:  # already deflated: PDFStream skips its own filters when /Filter is set
        stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])
    return stream


class SubsetCachingTTFont(TTFont):
    """A :class:`TTFont` that reuses its embedded subsets across documents.

    Register it with ``pdfmetrics.registerFont`` like a ``TTFont``.
    """

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename)
        self._embedded: OrderedDict[tuple, _Embedded] = OrderedDict()
        glyphs = self.face.charToGlyph
        self._ascii_direct = bool(self._asciiReadable) and all(c in glyphs for c in range(32, 127))

    def splitString(self, text, doc, encoding="utf-8"):  # noqa: N802 - reportlab API
        """As :meth:`TTFont.splitString`; printable ASCII goes straight to subset 0."""
        if self._ascii_direct and isinstance(text, str) and text.isascii() and text.isprintable() and doc in self.state:
            return [(0, text.encode("ascii"))] if text else []
        return super().splitString(text, doc, encoding)

    def _embedding(self, n: int, subset: list[int], base_name: str, doc) -> _Embedded:
        key = (n, tuple(subset), bool(doc.compression))
        hit = self._embedded.get(key)
        if hit is not None:
            self._embedded.move_to_end(key)
            return hit
        compressed = bool(doc.compression)
        widths = pdfdoc.PDFArray(list(map(self.face.getCharWidth, subset))).format(doc)
        cmap = makeToUnicodeCMap(base_name, subset)
        font_file = self.face.makeSubset(subset)
        hit = _Embedded(
            widths=widths,
            cmap=zlib.compress(cmap.encode("utf8")) if compressed else cmap,
            font_file=zlib.compress(font_file) if compressed else font_file,
            font_file_length=len(font_file),
            compressed=compressed,
        )
        self._embedded[key] = hit
        if len(self._embedded) > CACHE_SIZE:
            self._embedded.popitem(last=False)
        return hit

    def addObjects(self, doc):  # noqa: N802 - reportlab API
        """Add the font's subsets to ``doc``: the objects ``TTFont.addObjects`` adds, in its order."""
        try:
            state = self.state[doc]
        except KeyError:
            state = self.state[doc] = TTFont.State(self._asciiReadable)
        state.frozen = 1
        face = self.face
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_name = b"".join((SUBSETN(n), b"+", face.name, face.subfontNameX)).decode("pdfdoc")
            parts = self._embedding(n, subset, base_name, doc)

            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = "Font %s subset %d" % (self.fontName, n)
            pdf_font.Name = internal_name
            pdf_font.BaseFont = base_name
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            pdf_font.Widths = _Formatted(parts.widths)
            pdf_font.ToUnicode = doc.Reference(_stream(parts.cmap, parts.compressed), "toUnicodeCMap:" + base_name)

            font_file = _stream(parts.font_file, False)
            font_file.dictionary["Length1"] = parts.font_file_length
            if parts.compressed:
                font_file.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName(pdfdoc.PDFZCompress.pdfname)])
            font_file_ref = doc.Reference(font_file, f"fontFile:{face.filename}({base_name})")
            descriptor = pdfdoc.PDFDictionary({
                "Type": "/FontDescriptor",
                "Ascent": face.ascent,
                "CapHeight": face.capHeight,
                "Descent": face.descent,
                "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                "FontBBox": pdfdoc.PDFArray(face.bbox),
                "FontName": pdfdoc.PDFName(base_name),
                "ItalicAngle": face.italicAngle,
                "StemV": face.stemV,
                "FontFile2": font_file_ref,
                "MissingWidth": face.defaultWidth,
            })
            pdf_font.FontDescriptor = doc.Reference(descriptor, "fontDescriptor:" + base_name)

            doc.Reference(pdf_font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = pdf_font
        del self.state[doc]
