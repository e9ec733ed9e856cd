"""Every published source the product uses, and what each one decides.

Built from the reference tables' own source columns (``assessment/data``),
matched to the full references in ``assessment/data/sources.csv`` (a
``pattern`` regular expression per source), so that the app can show the
citations to users who do not have ``shared/clinical-evidence.md``.
Callers may add uses from outside ``assessment`` (the fall-risk model's
source table) as ``(source cell, what it decides)`` pairs.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from .populations import from_abstract
from .tables import read_table

#: The tables whose rows cite a source, in the order their uses are listed.
TABLES: tuple[str, ...] = (
    "cutoffs", "bands", "populations", "reference_cohorts", "steadi_stay_independent", "steadi_chair_stand",
    "program_tiers", "program_weeks", "program_rules", "program_safety",
)


@dataclass
class Source:
    """One published source: its full reference, how it was read, and what it decides in StepBack."""

    key: str
    citation: str
    access: str
    section: str
    uses: list[str] = field(default_factory=list)
    abstract_only: bool = False


def _decides(table: str, row: dict[str, str], column: str) -> str:
    """What one table row decides, in words (generic for tables with unknown columns)."""
    pop = row.get("population", "")
    if table == "cutoffs":
        sign = "≤" if row["comparison"] == "le" else "≥"
        return f"{pop}: cut-off {sign} {row['seconds']} s ({row['purpose']})"
    if table == "bands":
        return f"{pop}: band \"{row['label']}\""
    if table == "populations":
        what = {"mdc95_source": "minimal detectable change (MDC95)", "pretest_source": "pre-test fall rate",
                "age_source": "ages the evidence covers (no percentile or probability outside them)"}
        return f"{row['label']}: {what.get(column, column)}"
    if table == "reference_cohorts":
        return f"reference cohort: {row['label']}, {row['mean_seconds']} ± {row['sd_seconds']} s"
    if table == "steadi_stay_independent":
        return f"STEADI Stay Independent item ({row['points']} points): {row['text']}"
    if table == "steadi_chair_stand":
        return f"STEADI 30-s chair stand, ages {row['age_min']}–{row['age_max']}: at risk below {row['male_below']} (men) / {row['female_below']} (women)"
    for name in ("reason", "text", "label", "purpose", "progress_rule"):
        if row.get(name):
            return f"{table.replace('_', ' ')}: {row[name]}"
    return table.replace("_", " ")


def table_uses() -> list[tuple[str, str, str]]:
    """(table, source cell, what it decides) for every cited cell of :data:`TABLES`."""
    out = []
    for table in TABLES:
        try:
            rows = read_table(table)
        except FileNotFoundError:
            continue
        for row in rows:
            for column, cell in row.items():
                if (column == "source" or column.endswith("_source")) and cell:
                    out.append((table, cell, _decides(table, row, column)))
    return out


def sources(extra_uses: Iterable[tuple[str, str]] = ()) -> tuple[list[Source], list[tuple[str, str]]]:
    """Every known source with its uses, and the (cell, use) pairs no source matched.

    Parameters
    ----------
    extra_uses : iterable of (str, str)
        More ``(source cell, what it decides)`` pairs, e.g. the model's.

    Returns
    -------
    (list of Source, list of (str, str))
        Sources in ``sources.csv`` order (only those used), and the uses
        whose source cell matched none (shown as they are).
    """
    text = resources.files("assessment.data").joinpath("sources.csv").read_text("utf-8")
    known = [(re.compile(r["pattern"]), Source(r["key"], r["citation"], r["access"], r["source"],
                                               abstract_only="abstract only" in r["access"]))
             for r in csv.DictReader(io.StringIO(text))]
    unmatched = []
    uses = [(cell, what) for _, cell, what in table_uses()] + list(extra_uses)
    for cell, what in uses:
        hit = False
        for pattern, src in known:
            if pattern.search(cell):
                hit = True
                marked = (from_abstract(cell) or src.abstract_only) and "abstract" not in what
                label = what + (" [read from the abstract only]" if marked else "")
                if label not in src.uses:
                    src.uses.append(label)
        if not hit:
            unmatched.append((cell, what))
    return [src for _, src in known if src.uses], unmatched
