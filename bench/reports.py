"""Benchmark: render clinician reports, against a bare reportlab baseline.

Renders N clinician reports (each with a 10-point trend chart) one after the
other in this process, then N bare reportlab documents with the same number
of pages and the same amount of text (the same DejaVu Sans file embedded as a
plain reportlab ``TTFont``, without StepBack's subset cache; plain
``drawString`` lines of 110 characters, no tables, no chart, no layout
engine), measured in the same run. A second baseline draws the same text as
one ``drawString`` per paragraph, table cell and chart label (the number of
strings a report really places), still without layout. Prints reports per second for both and the ratio (target:
≤ 2×). Also times ``render_many`` with 2 workers.

Run: ``python bench/reports.py [N]`` (default 200).
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder is sys.path[0] and this module would
# shadow the ``reports`` package it measures: drop that entry.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import pypdf  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from reports import build_clinician_report, render_many, render_pdf  # noqa: E402
from reports.render import MARGIN, register_fonts  # noqa: E402
from reports.model import Table, TrendChart  # noqa: E402
from reports.samples import example_inputs  # noqa: E402

#: The baseline's font: the same DejaVu Sans file, as a plain reportlab TTFont
#: (StepBack's registered fonts cache their embedded subsets; a bare document does not).
BASE_FONT = "BaselineDejaVuSans"
NAMES = (("Zoë", "Øster-Ñúñez"), ("Łukasz", "Żółć"), ("Σοφία", "Παπαδοπούλου"), ("Анна", "Иванова"))


def models(n: int):
    """N clinician report models with 10-point trends and varied names."""
    out = []
    for i in range(n):
        given, family = NAMES[i % len(NAMES)]
        inputs = example_inputs(given_name=given, family_name=family, mrn=f"B{i:05d}", history_points=10,
                                trials=(3.5 + (i % 9) * 0.2, 3.7 + (i % 7) * 0.2))
        out.append(build_clinician_report(**inputs))
    return out


def baseline_pdf(lines: list[str], pages: int, size: float) -> bytes:
    """A bare reportlab document: ``lines`` spread over ``pages`` pages with drawString."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    per_page = -(-len(lines) // pages)
    width, height = A4
    for p in range(pages):
        c.setFont(BASE_FONT, size)
        y = height - MARGIN
        for line in lines[p * per_page:(p + 1) * per_page]:
            c.drawString(MARGIN, y, line[:110])
            y -= size * 1.25
            if y < MARGIN:  # the same text, wrapped onto the same page in a second column
                y = height - MARGIN
        c.showPage()
    c.save()
    return buf.getvalue()


def text_items(m) -> list[str]:
    """The model's text as the renderer sees it: one item per paragraph, table cell or label."""
    items = [m.title, m.header, m.header_right, m.footer]
    for b in m.blocks:
        if isinstance(b, Table):
            items += list(b.header) + [cell for row in b.rows for cell in row]
        elif isinstance(b, TrendChart):
            items += [b.title] + [p.assessed_on for p in b.points] + [label for _, label in b.cutoffs]
        else:
            items.append(getattr(b, "text", ""))
    return [i for i in items if i]


def register_baseline_font() -> None:
    """Register :data:`BASE_FONT`: the file StepBack embeds, as a plain reportlab ``TTFont``.

    ``pdfmetrics.registerFont`` maps every font of one face (here "DejaVuSans")
    to the first object registered for it, which after ``register_fonts()``
    is StepBack's subset-caching font; the baseline must not use that cache,
    so the plain font goes into the registry under its own name directly.
    """
    from importlib import resources

    with resources.as_file(resources.files("reports.fonts").joinpath("DejaVuSans.ttf")) as path:
        font = TTFont(BASE_FONT, str(path))
    pdfmetrics._fonts[BASE_FONT] = font  # noqa: SLF001 - see above
    assert type(pdfmetrics.getFont(BASE_FONT)) is TTFont


def main(n: int = 200) -> None:
    register_fonts()
    register_baseline_font()
    t0 = time.perf_counter()
    ms = models(n)
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    pdfs = [render_pdf(m) for m in ms]
    ours_s = time.perf_counter() - t0

    # Baseline inputs (prepared outside the timed loop): same page count, same text.
    jobs, item_jobs = [], []
    for m, pdf in zip(ms, pdfs):
        pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        text = m.text()
        jobs.append(([text[i:i + 110] for i in range(0, len(text), 110)], pages))
        item_jobs.append((text_items(m), pages))
    t0 = time.perf_counter()
    for lines, pages in jobs:
        baseline_pdf(lines, pages, m.body_size)
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for lines, pages in item_jobs:
        baseline_pdf(lines, pages, m.body_size)
    items_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        render_many(ms, out, workers=2)
        pool_s = time.perf_counter() - t0

    chars = sum(len(m.text()) for m in ms) / n
    pages = sum(p for _, p in jobs) / n
    print(f"clinician reports: {n}, {pages:.1f} pages and {chars:.0f} characters each on average")
    print(f"build report models: {n / build_s:.1f} per second")
    print(f"render (StepBack, 1 process): {n / ours_s:.1f} reports per second ({ours_s:.2f} s)")
    print(f"render (bare reportlab baseline, same pages and text): {n / base_s:.1f} per second ({base_s:.2f} s)")
    print(f"ratio to baseline: {ours_s / base_s:.2f}x (target <= 2x)")
    print(f"second baseline, one drawString per paragraph/cell/label ({sum(len(i) for i, _ in item_jobs) / n:.0f} strings): "
          f"{n / items_s:.1f} per second; ratio {ours_s / items_s:.2f}x")
    print(f"render_many, 2 workers: {n / pool_s:.1f} reports per second ({pool_s:.2f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
