"""Render many reports at once, on a process pool (both cores by default)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .model import ReportModel
from .render import render_pdf
from .typeface import register_fonts


def _render_to(model: ReportModel, path: str) -> str:
    """Render ``model`` to ``path`` through a temporary file in the same folder and a rename.

    A failure (disk full ...) leaves no partial PDF under the report's name
    and removes the temporary file.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as stream:
            stream.write(render_pdf(model))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def render_each(models: Sequence[ReportModel], workers: int = 2) -> Iterator[tuple[int, bytes]]:
    """Render ``models`` to PDF bytes in parallel; yield ``(index, pdf)`` as each is done.

    The caller writes each one (and may stop early: closing the generator
    cancels the reports not yet started).

    Raises
    ------
    ValueError
        ``workers`` < 1.
    """
    if workers < 1:
        raise ValueError(f"workers: {workers} is not allowed; allowed: 1 or more")
    if workers == 1 or len(models) <= 1:
        for index, model in enumerate(models):
            yield index, render_pdf(model)
        return
    pool = ProcessPoolExecutor(max_workers=workers, initializer=register_fonts)
    try:
        futures = {pool.submit(render_pdf, m): i for i, m in enumerate(models)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def render_many(
    models: Sequence[ReportModel],
    out_dir: str | Path,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render ``models`` to ``out_dir/<file_stem>.pdf`` in parallel.

    Parameters
    ----------
    models : sequence of ReportModel
        Each must have a distinct ``file_stem``.
    out_dir : str or Path
        Created if missing.
    workers : int
        Worker processes (1 renders in this process, without a pool).
    progress : callable, optional
        Called as ``progress(done, total)`` in the calling process after
        each report.

    Returns
    -------
    list of Path
        The written files, in the order of ``models``.

    Raises
    ------
    ValueError
        When two models share a ``file_stem`` or ``workers`` < 1.
    """
    if workers < 1:
        raise ValueError(f"workers: {workers} is not allowed; allowed: 1 or more")
    stems = [m.file_stem for m in models]
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise ValueError(f"file_stem: {dupes[0]!r} is used by more than one report; allowed: distinct names")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{s}.pdf" for s in stems]
    total = len(models)
    if workers == 1 or total <= 1:
        for done, (model, path) in enumerate(zip(models, paths), start=1):
            _render_to(model, str(path))
            if progress:
                progress(done, total)
        return paths
    with ProcessPoolExecutor(max_workers=workers, initializer=register_fonts) as pool:
        futures = [pool.submit(_render_to, m, str(p)) for m, p in zip(models, paths)]
        for done, future in enumerate(as_completed(futures), start=1):
            future.result()
            if progress:
                progress(done, total)
    return paths
