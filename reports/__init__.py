"""PDF reports: built as plain data (:class:`ReportModel`), then rendered.

The only package that imports reportlab, and only in :mod:`reports.render`
and the modules it uses (:mod:`reports.chart`, :mod:`reports.typeface`,
:mod:`reports.icons`), imported lazily here so that building a report model
does not load reportlab.
"""

from __future__ import annotations

from .clinician import build_clinician_report
from .model import Heading, IconItem, IconList, Paragraph, ReportModel, Table, TrendChart, TrendPoint
from .patient import build_patient_report

__all__ = [
    "Heading", "IconItem", "IconList", "Paragraph", "ReportModel", "Table", "TrendChart", "TrendPoint",
    "build_clinician_report", "build_patient_report", "render_each", "render_many", "render_pdf",
]


def render_pdf(model: ReportModel) -> bytes:
    """Render ``model`` to PDF bytes; see :func:`reports.render.render_pdf`."""
    from .render import render_pdf as _render

    return _render(model)


def render_each(models, workers: int = 2):
    """Render many models to PDF bytes, yielding each as it is done; see :func:`reports.batch.render_each`."""
    from .batch import render_each as _each

    return _each(models, workers=workers)


def render_many(models, out_dir, workers: int = 2, progress=None):
    """Render many models to ``out_dir``; see :func:`reports.batch.render_many`."""
    from .batch import render_many as _many

    return _many(models, out_dir, workers=workers, progress=progress)
