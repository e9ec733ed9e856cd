"""Data: CSV import (all rows or none, with a row report), FHIR patient import
from an EHR export (the same rules), CSV export, one patient's FHIR R4 export,
and (administrators) the whole clinic as FHIR Bulk Data NDJSON and a database
backup download.

Exports run when their download button is clicked (deferred downloads), so
each audit row is written at the moment of the export. Files pass through
temporary files that are deleted at once.
"""

from __future__ import annotations

import json
import os
import io
import re
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import streamlit as st

from assessment.errors import InputError
from records import services
from records.backup import backup
from records.exchange import ImportRejected
from records.fhir import bulk_resources, fhir_base, fhir_bundle, import_fhir, is_placeholder_base, iter_ndjson

from .common import file_button, md_escape, patient_picker, show_error
from .resources import actor, database, fall_risk_model, is_admin

#: One-shot import summary shown after a rerun (UI state; counts only).
FLASH = "exchange_flash"


def problem_rows(exc: ImportRejected) -> list[dict]:
    """Every bad cell of a rejected import: line, field, reason."""
    return [{"Line": p.line, "Field": p.field, "Reason": p.reason} for p in exc.problems]


def import_bytes(db, data: bytes, *, actor: str, model=None):
    """Import an uploaded CSV through a temporary file (deleted afterwards).

    Every imported assessment is scored again with ``model`` (the active
    fall-risk model); risk values in the file are kept only as external values.
    """
    from models import risk_function

    handle, name = tempfile.mkstemp(prefix="stepback-import-", suffix=".csv")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        risk_fn = risk_function(model) if model is not None else None
        return services.import_csv(db, name, actor=actor, risk_fn=risk_fn)
    finally:
        Path(name).unlink(missing_ok=True)


def import_fhir_bytes(db, data: bytes, name: str, *, actor: str):
    """Import an uploaded FHIR Bundle (``.json``) or NDJSON file through a temporary file (deleted afterwards)."""
    suffix = ".ndjson" if name.lower().endswith(".ndjson") else ".json"
    handle, path = tempfile.mkstemp(prefix="stepback-fhir-import-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        return import_fhir(db, path, actor=actor)
    finally:
        Path(path).unlink(missing_ok=True)


def bulk_zip_bytes(db, *, actor: str) -> bytes:
    """The whole clinic as FHIR Bulk Data: one ``<Type>.ndjson`` per resource type, in a ZIP (in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind, resources in bulk_resources(db, actor=actor).items():
            zf.writestr(f"{kind}.ndjson", "".join(iter_ndjson(resources)))
    return buffer.getvalue()


def export_csv_bytes(db, *, actor: str) -> bytes:
    """Every patient and final assessment as the import CSV (via a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="stepback-export-") as folder:
        out = Path(folder) / "export.csv"
        services.export_csv(db, out, actor=actor)
        return out.read_bytes()


def fhir_bytes(db, mrn: str, *, actor: str) -> bytes:
    """One patient's FHIR R4 Bundle as JSON."""
    return json.dumps(fhir_bundle(db, mrn, actor=actor), ensure_ascii=False, indent=2).encode("utf-8")


def backup_bytes(db, *, actor: str) -> bytes:
    """A consistent copy of the SQLite database (via a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="stepback-backup-") as folder:
        out = Path(folder) / "backup.sqlite3"
        backup(db, out, actor=actor)
        return out.read_bytes()


def safe_file_part(text: str) -> str:
    """An MRN made safe for a file name (``/`` and other separators → ``_``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _import_section(db) -> None:
    st.subheader("Import patients and past assessments (CSV)")
    st.caption("All rows or none: a file with any bad row imports nothing and lists every problem. "
               "Re-importing the same file adds nothing.")
    uploaded = st.file_uploader("CSV file", type=["csv"], key="import_file")
    if st.button("Import", type="primary", key="import_run", disabled=uploaded is None, icon=":material/upload:"):
        try:
            summary = import_bytes(db, uploaded.getvalue(), actor=actor(), model=fall_risk_model())
        except ImportRejected as exc:
            st.error(f"Nothing imported: {md_escape(exc.message)}. Fix these rows and import the file again.",
                     icon=":material/error:")
            st.dataframe(problem_rows(exc), hide_index=True, width="stretch")
            return
        except InputError as exc:
            show_error(exc)
            return
        st.session_state[FLASH] = (
            f"Imported {summary.rows} rows: {summary.patients_added} new patients "
            f"({summary.patients_existing} already stored), {summary.assessments_added} assessments added, "
            f"{summary.assessments_skipped} already stored or repeated."
        )
        st.rerun()


def _fhir_import_section(db) -> None:
    st.subheader("Import patients from the EHR (FHIR)")
    st.caption("A FHIR Bundle (.json) or NDJSON of Patient resources (e.g. a Bulk Data Patient.ndjson). "
               "The same rules as the CSV import: all patients or none, every problem listed, nothing added twice.")
    uploaded = st.file_uploader("FHIR file", type=["json", "ndjson"], key="fhir_import_file")
    if st.button("Import patients", key="fhir_import_run", disabled=uploaded is None, icon=":material/upload:"):
        try:
            summary = import_fhir_bytes(db, uploaded.getvalue(), uploaded.name, actor=actor())
        except ImportRejected as exc:
            st.error(f"Nothing imported: {exc.message}. Fix these and import the file again.", icon=":material/error:")
            st.dataframe([{"Where": f"{p.unit} {p.line}", "Field": p.field, "Reason": p.reason} for p in exc.problems],
                         hide_index=True, width="stretch")
            return
        except InputError as exc:
            show_error(exc)
            return
        st.session_state[FLASH] = (f"Imported {summary.rows} FHIR patients: {summary.patients_added} new, "
                                   f"{summary.patients_existing} already stored.")
        st.rerun()


def _export_section(db) -> None:
    st.subheader("Export")
    username = actor()
    file_button(
        "Export all patients and assessments (CSV)", lambda: export_csv_bytes(db, actor=username),
        file_name=f"stepback-export-{date.today().isoformat()}.csv", mime="text/csv", key="export_csv",
    )
    st.caption("The same columns the import reads; each export is recorded in the audit trail.")
    st.markdown("**One patient as FHIR R4 (JSON)**")
    try:
        base = fhir_base()
    except InputError as exc:
        show_error(exc)
        return
    if is_placeholder_base(base):
        st.warning("STEPBACK_FHIR_BASE is not set: codes and MRNs use the placeholder base "
                   f"`{base}`. Set it to a URL this clinic owns before sending FHIR to an EHR.", icon=":material/warning:")
    mrn = patient_picker("fhir", label="Patient")
    if mrn:
        file_button(
            "Export this patient (FHIR JSON)", lambda: fhir_bytes(db, mrn, actor=username),
            file_name=f"stepback-fhir-{safe_file_part(mrn)}.json", mime="application/fhir+json", key="export_fhir",
        )


def _bulk_section(db) -> None:
    st.subheader("Whole clinic as FHIR Bulk Data (administrators)")
    username = actor()
    file_button(  # built on the click, never at a /media URL
        "Download FHIR NDJSON (ZIP)", lambda: bulk_zip_bytes(db, actor=username),
        file_name=f"stepback-bulk-fhir-{date.today().isoformat()}.zip", mime="application/zip",
        key="export_fhir_bulk",
    )
    st.caption("Patient.ndjson, Observation.ndjson and RiskAssessment.ndjson, one resource a line, for a data "
               "warehouse. Every patient and current final assessment; the export is recorded in the audit trail.")


def _backup_section(db) -> None:
    st.subheader("Backup (administrators)")
    if not db.url.startswith("sqlite"):
        st.info("Backups from the app are for SQLite databases; back up this server with its own tools.")
        return
    username = actor()
    file_button(
        "Download a backup of the database", lambda: backup_bytes(db, actor=username),
        file_name=f"stepback-backup-{date.today().isoformat()}.sqlite3", mime="application/vnd.sqlite3",
        key="backup_download", icon=":material/backup:",
    )
    st.caption("The backup holds every record and the password hashes: keep it as safe as the database. "
               "Restore it with `stepback restore`.")


def render() -> None:
    """The Data page."""
    st.title("Data")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH), icon=":material/check:")
    db = database()
    _import_section(db)
    _fhir_import_section(db)
    _export_section(db)
    if is_admin():
        _bulk_section(db)
        _backup_section(db)
