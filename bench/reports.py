"""Benchmark: clinician reports against a bare reportlab platypus document.

Target, in the user's terms: a clinician waits at most 50 ms (median) for one
report, and a batch of 1,000 reports takes at most 60 s on 2 cores.

Renders N clinician reports (each with a 10-point trend chart, names in
several scripts) one after the other in this process and prints the median
and 95th percentile per report; then N bare reportlab documents measured in
the same run: a ``SimpleDocTemplate`` of plain ``Paragraph`` objects in DejaVu
Sans holding the same text, on the same number of pages (no tables, chart,
font fallback or shaping). Prints the ratio of the medians. Then renders a
batch of ``--batch`` reports (default 1,000) with ``render_many`` on 2
workers and prints its wall time against the 60 s target.

Run: ``python bench/reports.py [N] [--batch M]`` (defaults 200 and 1000).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

# Run as a script, this file's folder is sys.path[0] and this module would
# shadow the ``reports`` package it measures: drop that entry.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.platypus import PageBreak, SimpleDocTemplate  # noqa: E402
from reportlab.platypus import Paragraph as RLParagraph  # noqa: E402

from reports import build_clinician_report, render_many, render_pdf  # noqa: E402
from reports.samples import example_inputs  # noqa: E402
from reports.typeface import register_fonts  # noqa: E402

NAMES = (("Zoë", "Øster-Ñúñez"), ("Σοφία", "Παπαδοπούλου"), ("Анна", "Иванова"), ("秀英", "王"),
         ("محمد", "عبد الله"), ("राजेश", "कुमार"), ("שרה", "כהן"), ("สมชาย", "ใจดี"))
MEDIAN_TARGET_MS = 50.0
BATCH_TARGET_S = 60.0


def models(n: int):
    """N clinician report models with 10-point trends and names in several scripts."""
    out = []
    for i in range(n):
        given, family = NAMES[i % len(NAMES)]
        inputs = example_inputs(given_name=given, family_name=family, mrn=f"B{i:05d}", history_points=10,
                                trials=(3.5 + (i % 9) * 0.2, 3.7 + (i % 7) * 0.2))
        out.append(build_clinician_report(**inputs))
    return out


def baseline_pdf(text: str, pages: int) -> bytes:
    """A bare platypus document: ``text`` as plain DejaVu Sans Paragraphs over ``pages`` pages."""
    style = ParagraphStyle("b", fontName="DejaVuSans", fontSize=9, leading=11)
    lines = text.splitlines()
    per_page = -(-len(lines) // pages)
    story = []
    for p in range(pages):
        story += [RLParagraph(escape(line), style) for line in lines[p * per_page:(p + 1) * per_page]]
        if p < pages - 1:
            story.append(PageBreak())
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, invariant=1).build(story)
    return buf.getvalue()


def _timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t0) * 1000, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    register_fonts()
    ms = models(args.n)
    for m in ms[:len(NAMES)]:
        render_pdf(m)  # warm: fonts parsed, harfbuzz faces built
    ours, pdfs = [], []
    for m in ms:
        t, pdf = _timed(render_pdf, m)
        ours.append(t)
        pdfs.append(pdf)
    import pypdf

    jobs = [(m.text(), len(pypdf.PdfReader(io.BytesIO(pdf)).pages)) for m, pdf in zip(ms, pdfs)]
    base = [_timed(baseline_pdf, text, pages)[0] for text, pages in jobs]
    med, base_med = statistics.median(ours), statistics.median(base)
    p95 = statistics.quantiles(ours, n=20)[-1]
    print(f"clinician reports: {args.n}, {sum(p for _, p in jobs) / args.n:.1f} pages each on average")
    print(f"StepBack render: median {med:.1f} ms, 95th percentile {p95:.1f} ms per report "
          f"(target: median <= {MEDIAN_TARGET_MS:.0f} ms) -> {'MET' if med <= MEDIAN_TARGET_MS else 'NOT MET'}")
    print(f"bare reportlab platypus, same text and pages: median {base_med:.1f} ms; "
          f"ratio {med / base_med:.2f}x")
    batch = (ms * (-(-args.batch // len(ms))))[:args.batch]
    batch = [type(m)(**{**m.__dict__, "file_stem": f"{m.file_stem}-{i}"}) for i, m in enumerate(batch)]
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        render_many(batch, out, workers=2)
        wall = time.perf_counter() - t0
    print(f"render_many, 2 workers: {args.batch} reports in {wall:.1f} s "
          f"(target: 1,000 in <= {BATCH_TARGET_S:.0f} s, scaled: {BATCH_TARGET_S * args.batch / 1000:.1f} s) -> "
          f"{'MET' if wall <= BATCH_TARGET_S * args.batch / 1000 else 'NOT MET'}")


if __name__ == "__main__":
    main()
