"""CSV import and export of patients and their final assessments.

One file, one row per assessment; the patient's columns are repeated on
each of their rows, and a patient without assessments has one row whose
assessment columns are blank. Export writes exactly the columns import
reads (:func:`csv_columns`), so export → import into an empty database →
export gives the same file. Scores are not columns: import re-scores every
assessment through :func:`assessment.score`.

Import is all or nothing. Every row is checked first, with the same rules
as typing it in (patients: :func:`records.validation.validate_patient_fields`;
assessments: :func:`assessment.validate_assessment` via the records
assessment helpers), and every bad row is reported (line, field, reason)
in one :class:`ImportRejected`; then everything is written in one
transaction. Re-importing a file adds nothing: a patient is its MRN (its
details must match the stored ones), and an assessment is its patient, its
date and its trials (:func:`assessment_key`).

Spreadsheet formula injection: a *text* cell whose value starts with
``= + - @``, a tab or a carriage return (after any run of single quotes)
is written with one more single quote in front; import removes exactly one
leading quote from such a cell, so the round trip is exact. Numeric columns
(:data:`NUMERIC_COLUMNS`) are written as plain numbers and never prefixed;
none of them can be negative (no computed values such as change_seconds
are exported).
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from assessment import Assessment, InputError, validate_assessment
from assessment.gatekeeper import is_blank, validate_population
from assessment.program import SAFETY_SCREEN_KEYS
from assessment.protocol import MAX_TIMED_TRIALS
from assessment.steadi import stay_independent_items

from .assessments import (
    _add_final_row,
    checked_risk,
    RiskFn,
    _current_final_query,
    _new_lineage,
    _score_against_history,
    _split_extras,
    _with_patient,
)
from .audit import now, write_audit
from .db import Database
from .schema import AssessmentRow, Patient
from .files import output_path, remove_stale_temporaries, temporary_prefix
from .patients import _mrn_taken
from .scope import session_clinic
from .validation import name_key, validate_actor, validate_clinic, validate_patient_fields
from .views import steadi_raw

# ----------------------------------------------------------------- columns

PATIENT_COLUMNS = ("mrn", "given_name", "family_name", "birth_date", "sex", "population", "language")
#: Assessment-level columns; ``assessment_population`` blank = the patient's population.
ASSESSMENT_COLUMNS = (
    "assessed_on", "assessment_population", "start", "footwear", "assistive_device",
    "practice_walk_done", "stop_reason", "prior_falls", "walking_aid",
)
SAFETY_PREFIX = "safety_"
SI_PREFIX = "steadi_si_"
STEADI_NUMBERS = ("stay_independent_score", "tug_seconds", "chair_stand_count", "tandem_seconds")
RISK_COLUMNS = ("probability", "probability_low", "probability_high", "risk_category", "model_version")
#: Per-trial detail columns, after ``trial_N`` (the seconds).
TRIAL_DETAILS = ("timing_source", "valid", "invalid_reason", "loss_of_balance", "hands_on_assistance", "steps")
REQUIRED_COLUMNS = ("mrn", "given_name", "family_name", "birth_date")
#: The patient's clinic (blank: the importing clinician's clinic, or none).
CLINIC_COLUMN = "clinic"

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTE = re.compile(r"^'*[=+\-@\t\r]")
_QUOTED = re.compile(r"^'+[=+\-@\t\r]")


def trial_columns(number: int) -> tuple[str, ...]:
    """The columns of trial ``number``: ``trial_N`` then its details."""
    return (f"trial_{number}", *(f"trial_{number}_{d}" for d in TRIAL_DETAILS))


def _steadi_columns() -> tuple[str, ...]:
    return (
        *(f"steadi_{n}" for n in STEADI_NUMBERS),
        *(f"{SI_PREFIX}{item.key}" for item in stay_independent_items()),
    )


def csv_columns(trials: int = 1) -> tuple[str, ...]:
    """Every column import reads, in export order, with ``trials`` trial groups.

    Parameters
    ----------
    trials : int
        Number of trial column groups (1 to ``MAX_TIMED_TRIALS``).
    """
    groups = tuple(c for n in range(1, trials + 1) for c in trial_columns(n))
    safety = tuple(f"{SAFETY_PREFIX}{k}" for k in SAFETY_SCREEN_KEYS)
    return (*PATIENT_COLUMNS, CLINIC_COLUMN, *ASSESSMENT_COLUMNS, *groups, *_steadi_columns(), *safety, *RISK_COLUMNS)


def _numeric_columns() -> frozenset[str]:
    trials = {f"trial_{n}" for n in range(1, MAX_TIMED_TRIALS + 1)}
    steps = {f"trial_{n}_steps" for n in range(1, MAX_TIMED_TRIALS + 1)}
    steadi = {f"steadi_{n}" for n in STEADI_NUMBERS}
    return frozenset(trials | steps | steadi | {"probability", "probability_low", "probability_high"})


#: Columns holding numbers: written as numbers, never quote-prefixed.
NUMERIC_COLUMNS = _numeric_columns()


def neutralise(text: str) -> str:
    """Protect a text cell against spreadsheet formula injection.

    A value starting with ``= + - @``, tab or carriage return (after any
    single quotes) gets one more leading single quote; other values are
    unchanged. :func:`unneutralise` is its exact inverse.
    """
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def unneutralise(text: str) -> str:
    """Undo :func:`neutralise`: drop one leading quote before a formula character."""
    return text[1:] if _QUOTED.match(text) else text


# ------------------------------------------------------------------ errors


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: CSV ``line`` (the header is line 1, as a spreadsheet numbers rows).

    ``unit`` names what ``line`` counts: ``line`` (CSV, NDJSON) or ``entry``
    (the entries of a FHIR Bundle, from 1).
    """

    line: int
    field: str
    reason: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.unit} {self.line}: {self.field}: {self.reason}"


class ImportRejected(InputError):
    """The file had bad rows; nothing was imported. ``problems`` lists every one."""

    def __init__(self, problems: Iterable[RowProblem], source: str = "csv") -> None:
        self.problems = tuple(problems)
        lines = len({p.line for p in self.problems})
        super().__init__(source, f"{lines} bad row(s), nothing imported")

    def report(self) -> str:
        """Every problem, one per line (for stderr)."""
        return "\n".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    patients_added: int
    patients_existing: int
    assessments_added: int
    #: Assessments already stored (same MRN, date and trials), or repeated in the file.
    assessments_skipped: int


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    patients: int
    assessments: int


# ------------------------------------------------------------------ export


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else repr(float(value))


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _prior_falls(value: int | None) -> str:
    return "" if value is None else ("2+" if value >= 2 else str(value))


def _patient_cells(p: Patient) -> dict[str, str]:
    return {
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex or "",
        "population": p.population,
        "language": p.language or "",
    }


def _assessment_cells(row: AssessmentRow) -> dict[str, str]:
    cells = {
        "assessed_on": row.assessed_on.isoformat(),
        "assessment_population": row.population,
        "start": row.start,
        "footwear": row.footwear or "",
        "assistive_device": row.assistive_device,
        "practice_walk_done": _yes_no(row.practice_walk_done),
        "stop_reason": row.stop_reason or "",
        "prior_falls": _prior_falls(row.prior_falls),
        "walking_aid": _yes_no(row.walking_aid),
        "probability": _number(row.probability),
        "probability_low": _number(row.probability_low),
        "probability_high": _number(row.probability_high),
        "risk_category": row.risk_category or "",
        "model_version": row.model_version or "",
    }
    for t in row.trials:
        n = t.number
        cells[f"trial_{n}"] = _number(t.seconds)
        cells[f"trial_{n}_timing_source"] = t.timing_source
        cells[f"trial_{n}_valid"] = _yes_no(t.valid)
        cells[f"trial_{n}_invalid_reason"] = t.invalid_reason or ""
        cells[f"trial_{n}_loss_of_balance"] = _yes_no(t.loss_of_balance)
        cells[f"trial_{n}_hands_on_assistance"] = _yes_no(t.hands_on_assistance)
        cells[f"trial_{n}_steps"] = _number(t.steps)
    steadi = steadi_raw(row.steadi) or {}
    for name in STEADI_NUMBERS:
        cells[f"steadi_{name}"] = _number(steadi.get(name))
    for key, answer in (steadi.get("stay_independent") or {}).items():
        cells[f"{SI_PREFIX}{key}"] = _yes_no(answer)
    for key, answer in (row.safety_screen or {}).items():
        cells[f"{SAFETY_PREFIX}{key}"] = _yes_no(answer)
    return cells


def _write_atomically(frame: pd.DataFrame, out_path: Path) -> None:
    remove_stale_temporaries(out_path.parent)
    handle, tmp = tempfile.mkstemp(prefix=temporary_prefix("export"), suffix=".csv", dir=out_path.parent)
    os.close(handle)
    try:
        # UTF-8 with a byte-order mark, so spreadsheets show non-Latin names correctly.
        frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_csv(db: Database, out_path: str | os.PathLike, *, actor: str) -> ExportSummary:
    """Write every patient and their current final assessments to a CSV file.

    Drafts and superseded versions are not exported (an amended assessment
    is exported as its current version). Columns: :func:`csv_columns`, with
    as many trial groups as the longest assessment (at least one).

    Parameters
    ----------
    db : Database
    out_path : path
        Replaced atomically (written to a temporary file first).
    actor : str
        Username; one ``patient.export_csv`` audit row per patient and one
        ``exchange.export_csv`` summary row are written.

    Returns
    -------
    ExportSummary
    """
    actor = validate_actor(actor)
    out_path = output_path(out_path, "csv")
    with db.session(actor) as session:
        patients = session.scalars(sa.select(Patient).order_by(Patient.mrn)).all()
        finals = session.scalars(
            _current_final_query().order_by(AssessmentRow.patient_id, AssessmentRow.assessed_on, AssessmentRow.lineage_id)
        ).all()
        by_patient: dict[int, list[AssessmentRow]] = {}
        for row in finals:
            by_patient.setdefault(row.patient_id, []).append(row)
        trials = max([len(r.trials) for r in finals] + [1])
        columns = csv_columns(trials)
        records: list[dict[str, str]] = []
        for p in patients:
            base = {**_patient_cells(p), CLINIC_COLUMN: p.clinic or ""}
            for row in by_patient.get(p.id, []) or [None]:
                cells = dict(base)
                if row is not None:
                    cells.update(_assessment_cells(row))
                records.append(
                    {c: (cells.get(c, "") if c in NUMERIC_COLUMNS else neutralise(cells.get(c, ""))) for c in columns}
                )
            write_audit(session, actor, "patient.export_csv", "patient", p.id, {"assessments": len(by_patient.get(p.id, []))})
        frame = pd.DataFrame(records, columns=list(columns), dtype=object)
        _write_atomically(frame, out_path)
        summary = ExportSummary(rows=len(records), patients=len(patients), assessments=len(finals))
        write_audit(
            session, actor, "exchange.export_csv", "patient", None,
            {"rows": summary.rows, "patients": summary.patients, "assessments": summary.assessments},
        )
        return summary


# ------------------------------------------------------------------ import


def assessment_key(mrn: str, assessed_on: date, trials: Iterable[Any]) -> tuple:
    """The identity of an assessment for re-import: MRN, date and every trial's values.

    ``trials`` are :class:`assessment.inputs.Trial` or stored trial rows
    (anything with the trial attributes; enums are compared by value).
    """

    def value(x: Any) -> Any:
        return getattr(x, "value", x)

    return (
        mrn,
        assessed_on,
        tuple(
            (
                round(float(t.seconds), 6), value(t.timing_source), value(t.start), bool(t.valid),
                t.invalid_reason, bool(t.loss_of_balance), bool(t.hands_on_assistance), t.steps,
            )
            for t in trials
        ),
    )


@dataclass
class _PlannedAssessment:
    line: int
    mrn: str
    valid: Assessment
    extras: dict[str, Any]
    risk: dict[str, Any] | None


@dataclass
class _Plan:
    new_patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    existing_patients: set[str] = field(default_factory=set)
    assessments: list[_PlannedAssessment] = field(default_factory=list)
    skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def _read(path: str | os.PathLike) -> pd.DataFrame:
    """The CSV as text cells ("" for blank): no NA guessing, so a name like "Nan" stays a name."""
    try:
        with warnings.catch_warnings():  # a row of the wrong width is reported by _ragged_rows
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8-sig",
                skip_blank_lines=True, index_col=False,
            )
    except FileNotFoundError:
        raise ImportRejected([RowProblem(1, "csv", f"{path}: no such file")]) from None
    except pd.errors.EmptyDataError:
        raise ImportRejected([RowProblem(1, "csv", "the file is empty; allowed: a header line and rows")]) from None
    except UnicodeDecodeError:
        raise ImportRejected([RowProblem(1, "csv", "not UTF-8 text; allowed: a UTF-8 CSV file")]) from None
    except (pd.errors.ParserError, csv.Error, ValueError, OSError) as err:
        first = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise ImportRejected([RowProblem(1, "csv", f"cannot read the file: {first}")]) from None


def _ragged_rows(path: str | os.PathLike) -> list[RowProblem]:
    """Rows with more or fewer cells than the header (pandas would drop or blank them)."""
    problems: list[RowProblem] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = (r for r in csv.reader(handle) if r)  # blank lines are skipped, as by the reader
            header = next(rows, [])
            for index, cells in enumerate(rows):
                if len(cells) != len(header):
                    problems.append(RowProblem(
                        index + 2, "csv", f"{len(cells)} cells, the header has {len(header)}; allowed: one cell per column",
                    ))
    except (csv.Error, OSError, UnicodeDecodeError) as err:
        problems.append(RowProblem(1, "csv", f"cannot read the file: {type(err).__name__}"))
    return problems


def _check_columns(columns: list[str]) -> list[RowProblem]:
    allowed = set(csv_columns(MAX_TIMED_TRIALS))
    problems = [
        RowProblem(1, str(c), f"unknown column; allowed: the columns written by the CSV export ({', '.join(REQUIRED_COLUMNS)}, ...)")
        for c in columns if c not in allowed
    ]
    problems += [RowProblem(1, c, "required column missing") for c in REQUIRED_COLUMNS if c not in columns]
    return problems


def _cells(raw: Mapping[str, str]) -> dict[str, str]:
    text = {str(k): (v if isinstance(v, str) else "") for k, v in raw.items()}  # a short row's missing cells are blank
    return {k: (v if k in NUMERIC_COLUMNS else unneutralise(v)) for k, v in text.items()}


def _blank_to_none(value: str | None) -> str | None:
    return None if value is None or is_blank(value) else value


def _raw_assessment(cells: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(raw assessment for the records/gatekeeper checks, raw risk) from one row's cells."""
    get = cells.get
    trials: list[dict[str, Any]] = []
    last = max((n for n in range(1, MAX_TIMED_TRIALS + 1) if any(get(c, "").strip() for c in trial_columns(n))), default=0)
    for n in range(1, last + 1):
        names = trial_columns(n)
        if not any(get(c, "").strip() for c in names):
            raise InputError(f"trial_{n}", "blank while a later trial is given; allowed: trials in trial_1, trial_2, ... without gaps")
        trials.append({"seconds": get(names[0], ""), **{d: get(f"trial_{n}_{d}", "") for d in TRIAL_DETAILS}})
    raw: dict[str, Any] = {
        "assessed_on": get("assessed_on", ""),
        "population": get("assessment_population", ""),
        "start": get("start", ""),
        "footwear": get("footwear", ""),
        "assistive_device": get("assistive_device", ""),
        "practice_walk_done": get("practice_walk_done", ""),
        "stop_reason": get("stop_reason", ""),
        "trials": trials,
        "prior_falls": get("prior_falls", ""),
        "walking_aid": get("walking_aid", ""),
    }
    if is_blank(raw["assessed_on"]):
        raise InputError("assessed_on", "required for an imported assessment; allowed: a date YYYY-MM-DD")
    steadi: dict[str, Any] = {n: get(f"steadi_{n}", "") for n in STEADI_NUMBERS}
    answers = {item.key: _blank_to_none(get(f"{SI_PREFIX}{item.key}")) for item in stay_independent_items()}
    if any(v is not None for v in answers.values()):
        steadi["stay_independent"] = {k: v for k, v in answers.items() if v is not None}  # missing items are named
    if any(not is_blank(v) for v in steadi.values() if isinstance(v, str)) or "stay_independent" in steadi:
        raw["steadi"] = steadi
    screen = {k: _blank_to_none(get(f"{SAFETY_PREFIX}{k}")) for k in SAFETY_SCREEN_KEYS}
    raw["safety_screen"] = screen if any(v is not None for v in screen.values()) else None
    risk = {k: _blank_to_none(get(k)) for k in RISK_COLUMNS}
    return raw, (risk if any(v is not None for v in risk.values()) else None)


def _has_assessment(cells: Mapping[str, str]) -> bool:
    return any(v.strip() for k, v in cells.items() if k not in PATIENT_COLUMNS and k != CLINIC_COLUMN)


def _patient_mismatch(stored: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    for key in PATIENT_COLUMNS:
        if stored[key] != given[key]:
            return key
    return None


def _stored_patient(row: Patient) -> dict[str, Any]:
    return {k: getattr(row, k) for k in PATIENT_COLUMNS}


def _stored_keys(session: Session, patient_id: int, mrn: str) -> set[tuple]:
    rows = session.scalars(_current_final_query().where(AssessmentRow.patient_id == patient_id)).all()
    return {assessment_key(mrn, r.assessed_on, r.trials) for r in rows}


#: One row to import: (line, text cells by column, extra stored patient fields already validated).
ImportRow = tuple[int, Mapping[str, str], Mapping[str, Any]]


def _csv_rows(frame: pd.DataFrame) -> Iterable[ImportRow]:
    for index, raw_cells in enumerate(frame.to_dict(orient="records")):
        yield index + 2, _cells(raw_cells), {}


def _plan(session: Session, rows: Iterable[ImportRow], unit: str = "line") -> _Plan:
    """Check every row (reads only); collect the problems and what to write."""
    plan = _Plan()
    stored: dict[str, Patient | None] = {}
    keys: dict[str, set[tuple]] = {}
    file_patients: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, cells, extra in rows:
        try:
            fields = validate_patient_fields({c: (cells.get(c) or None) if c in ("sex", "language") else cells.get(c, "")
                                              for c in PATIENT_COLUMNS})
        except InputError as err:
            plan.problems.append(RowProblem(line, err.field, err.message, unit))
            continue
        fields.update(extra)
        mrn = fields["mrn"]
        try:
            fields["clinic"] = _import_clinic(session, cells.get(CLINIC_COLUMN, ""))
        except InputError as err:
            plan.problems.append(RowProblem(line, err.field, err.message, unit))
            continue
        if mrn not in stored:
            stored[mrn] = session.scalar(sa.select(Patient).where(Patient.mrn == mrn))
            if stored[mrn] is None and _mrn_taken(session, mrn):
                plan.problems.append(RowProblem(line, "mrn", f"{mrn} is in use; allowed: a new MRN or a patient of your clinic",
                                                unit))
                continue
        row = stored[mrn]
        if row is not None and not is_blank(cells.get(CLINIC_COLUMN, "")) and row.clinic != fields["clinic"]:
            plan.problems.append(RowProblem(line, CLINIC_COLUMN, f"differs from the stored patient with MRN {mrn}; "
                                            "allowed: the same clinic", unit))
            continue
        known = _stored_patient(row) if row is not None else (file_patients[mrn][1] if mrn in file_patients else None)
        if known is not None and "language" not in cells:  # a file without the column keeps the stored language
            fields["language"] = known["language"]
        if known is not None:
            differs = _patient_mismatch(known, {k: fields[k] for k in PATIENT_COLUMNS})
            if differs is not None:
                where = "the stored patient" if row is not None else f"line {file_patients[mrn][0]}"
                plan.problems.append(RowProblem(
                    line, differs, f"differs from {where} with MRN {mrn}; allowed: the same patient details on every row "
                    "(update the patient first to change them)", unit,
                ))
                continue
        elif row is None:
            file_patients[mrn] = (line, fields)
        if row is not None:
            plan.existing_patients.add(mrn)
        else:
            plan.new_patients.setdefault(mrn, fields)
        if not _has_assessment(cells):
            continue
        patient = row if row is not None else Patient(**fields)  # transient: validation only, never added
        try:
            raw, risk = _raw_assessment(cells)
            given = raw.get("population")
            if not is_blank(given) and validate_population(given, "assessment_population") != patient.population:
                raise InputError(
                    "assessment_population",
                    f"{given.strip()!r} differs from the patient's population {patient.population!r}; "
                    "allowed: blank or the patient's population (update the patient first to change it)",
                )
            gate, extras = _split_extras(raw)
            valid = validate_assessment(_with_patient(gate, patient, patient.population))
            if risk is not None:
                checked_risk(risk)  # kept only as a labelled external value
        except InputError as err:
            plan.problems.append(RowProblem(line, err.field, err.message))
            continue
        if mrn not in keys:
            keys[mrn] = _stored_keys(session, row.id, mrn) if row is not None else set()
        key = assessment_key(mrn, valid.assessed_on, valid.trials)
        if key in keys[mrn]:
            plan.skipped += 1
            continue
        keys[mrn].add(key)
        plan.assessments.append(_PlannedAssessment(line, mrn, valid, extras, risk))
    return plan


def _import_clinic(session: Session, cell: str) -> str | None:
    """The clinic of an imported patient: the cell, else the acting clinician's clinic.

    A clinician limited to one clinic (:mod:`records.scope`) imports only
    into it.
    """
    own = session_clinic(session)
    given = validate_clinic(cell, CLINIC_COLUMN)
    if given is None:
        return own
    if own is not None and given != own:
        raise InputError(CLINIC_COLUMN, f"another clinic; allowed: blank or your clinic ({own})")
    return given


def _write(session: Session, plan: _Plan, actor: str, risk_fn: RiskFn | None, source: str = "csv") -> None:
    stamp = now()
    patients: dict[str, Patient] = {}
    for mrn, fields in plan.new_patients.items():
        row = Patient(
            **fields, mrn_key=mrn.casefold(), name_key=name_key(fields["given_name"], fields["family_name"]),
            created_at=stamp, updated_at=stamp,
        )
        session.add(row)
        session.flush()
        patients[mrn] = row
        write_audit(session, actor, f"patient.import_{source}", "patient", row.id, {"population": row.population})
    # Oldest first per patient, so each assessment's change is against the one before it.
    for item in sorted(plan.assessments, key=lambda a: (a.mrn, a.valid.assessed_on, a.line)):
        patient = patients.get(item.mrn) or session.scalars(sa.select(Patient).where(Patient.mrn == item.mrn)).one()
        patients[item.mrn] = patient
        result = _score_against_history(session, item.valid, patient.id, None)
        lineage = _new_lineage(session, patient)
        row = _add_final_row(session, patient_id=patient.id, lineage_id=lineage.id, valid=item.valid, result=result,
                             actor=actor, risk_fn=risk_fn, external_risk=item.risk, stamp=stamp, **item.extras)
        write_audit(
            session, actor, "assessment.import_csv", "assessment", row.id,
            {"patient_id": patient.id, "line": item.line, "band": row.band},
        )


def import_csv(db: Database, path: str | os.PathLike, *, actor: str, risk_fn: RiskFn | None = None) -> ImportSummary:
    """Import patients and past assessments from a CSV file: all rows or none.

    Parameters
    ----------
    db : Database
    path : path
        UTF-8 CSV (a byte-order mark is fine) with the columns of
        :func:`csv_columns`; only ``mrn``, ``given_name``, ``family_name``
        and ``birth_date`` are required. A row with any assessment cell
        needs ``assessed_on`` and goes through the clinical gatekeeper.
    actor : str
        Username; audit rows: one per patient and assessment added, one
        ``exchange.import_csv`` summary (or ``exchange.import_rejected``).
    risk_fn : callable, optional
        The active fall-risk model (as in
        :func:`records.assessments.record_assessment`): every imported
        assessment is scored again with it, for the patient's own population.
        Risk columns in the file are kept only as a labelled external value
        (``score["external_risk"]``) and never used for the program.

    Returns
    -------
    ImportSummary

    Raises
    ------
    ImportRejected
        When any row (or the header) is bad: ``problems`` lists every bad
        row as (line, field, reason) and nothing was written.
    """
    actor = validate_actor(actor)
    frame = _read(path)
    columns = [str(c) for c in frame.columns]
    problems = _check_columns(columns) or _ragged_rows(path)
    if problems:
        _audit_rejected(db, actor, len(frame), problems)
        raise ImportRejected(problems)
    return import_patient_rows(db, list(_csv_rows(frame)), actor=actor, risk_fn=risk_fn)


def import_patient_rows(
    db: Database, rows: list[ImportRow], *, actor: str, source: str = "csv", unit: str = "line",
    risk_fn: RiskFn | None = None,
) -> ImportSummary:
    """Check every row, then write them all in one transaction, or nothing.

    The one import path of CSV and FHIR: the same patient checks, the same
    idempotence (a patient is its MRN) and the same row report.

    Parameters
    ----------
    db : Database
    rows : list of (line, cells, extra)
        ``cells`` by CSV column name (:func:`csv_columns`); ``extra`` holds
        further patient fields, already validated, stored with a new patient.
    actor : str
        A validated username.
    source : str
        ``csv`` or ``fhir``: names the audit actions (``patient.import_<source>``,
        ``exchange.import_<source>``) and the rejection's field.
    unit : str
        What ``line`` counts, for the row report (``line`` or ``entry``).
    risk_fn : callable, optional
        The active model: every imported assessment is scored again with it
        (see :func:`import_csv`).

    Raises
    ------
    ImportRejected
        Listing every bad row; nothing was written.
    """
    with db.session(actor) as session:
        plan = _plan(session, rows, unit)
        if not plan.problems:
            _write(session, plan, actor, risk_fn, source)
            summary = ImportSummary(
                rows=len(rows),
                patients_added=len(plan.new_patients),
                patients_existing=len(plan.existing_patients),
                assessments_added=len(plan.assessments),
                assessments_skipped=plan.skipped,
            )
            write_audit(
                session, actor, f"exchange.import_{source}", "patient", None,
                {k: getattr(summary, k) for k in ("rows", "patients_added", "patients_existing", "assessments_added", "assessments_skipped")},
            )
            return summary
    _audit_rejected(db, actor, len(rows), plan.problems)
    raise ImportRejected(plan.problems, source)


def _audit_rejected(db: Database, actor: str, rows: int, problems: list[RowProblem]) -> None:
    """A rejected import is audited too (counts and field names only; no cell values)."""
    with db.session(actor) as session:
        write_audit(
            session, actor, "exchange.import_rejected", "patient", None,
            {"rows": rows, "bad_rows": len({p.line for p in problems}), "problems": len(problems)},
        )
