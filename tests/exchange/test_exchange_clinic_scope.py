"""Clinic scope (issue 14, finding 1): two clinics, one test per route.

Clinician ``north`` (clinic North) must neither read nor write a patient of
clinic South (``south``), by any service the app's pages call: the Result
page's ``?assessment=ID``, the Data page's CSV export and import, the
drafts list/resume/finalise, search, history and summaries. Real database
(SQLite file, or the test server with ``STEPBACK_TEST_DATABASE_URL``).
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from records import services as svc
from records.errors import Conflict, NotFound
from records.exchange import ImportRejected, export_csv, import_csv
from records.schema import AssessmentRow, AuditRow, Patient, TrialRow
from records.scope import OutOfScope

PASSWORD = "plover-quartz-7-harbour"
ON = date(2024, 3, 4)


def _rows(db) -> dict[str, list]:
    """Every patient, assessment and trial row (the state a refusal must not change)."""
    with db.session() as session:
        return {
            "patients": session.execute(sa.select(Patient.mrn, Patient.given_name, Patient.clinic).order_by(Patient.mrn)).all(),
            "assessments": session.execute(sa.select(AssessmentRow.id, AssessmentRow.status).order_by(AssessmentRow.id)).all(),
            "trials": session.execute(sa.select(TrialRow.id, TrialRow.seconds).order_by(TrialRow.id)).all(),
        }


@pytest.fixture
def clinics(db):
    """Admin, a clinician of North and one of South, each clinic with a final assessment and a draft."""
    svc.add_user(db, username="boss", password=PASSWORD, role="admin", actor="system")
    svc.add_user(db, username="north", password=PASSWORD, clinic="North", actor="system")
    svc.add_user(db, username="south", password=PASSWORD, clinic="South", actor="system")
    ids = {}
    for user, mrn, name in (("north", "N1", "Nora"), ("south", "S1", "Sven")):
        svc.add_patient(db, mrn=mrn, given_name=name, family_name="Test", birth_date="1950-01-01", sex="female", actor=user)
        final, _ = svc.record_assessment(db, mrn, {"trials": [6.0], "assessed_on": ON}, actor=user)
        draft = svc.start_assessment(db, mrn, assessed_on=date(2024, 5, 1), actor=user)
        svc.record_trial(db, draft, 7.0, actor=user)
        ids[mrn] = (final.id, draft)
    return ids


def test_new_patients_take_the_clinicians_clinic(db, clinics):
    assert svc.get_patient(db, "N1", actor="boss").clinic == "North"
    assert svc.get_patient(db, "S1", actor="boss").clinic == "South"


def test_result_page_assessment_of_another_clinic_is_not_found(db, clinics):
    south_final, _ = clinics["S1"]
    assert svc.get_assessment(db, south_final, actor="south").mrn == "S1"
    for call in (svc.get_assessment, svc.assessment_versions):
        with pytest.raises(NotFound):
            call(db, south_final, actor="north")
    with pytest.raises(NotFound):
        svc.record_report_printed(db, south_final, ["patient"], actor="north")
    with pytest.raises(NotFound):
        svc.history(db, "S1", actor="north")
    with pytest.raises(NotFound):
        svc.get_patient(db, "S1", actor="north")


def test_drafts_of_another_clinic_are_not_listed_resumed_or_finalised(db, clinics):
    _, south_draft = clinics["S1"]
    _, north_draft = clinics["N1"]
    assert [d.id for d in svc.open_drafts(db, actor="north")] == [north_draft]
    assert {d.id for d in svc.open_drafts(db, actor="boss")} == {north_draft, south_draft}
    before = _rows(db)
    with pytest.raises(NotFound):
        svc.record_trial(db, south_draft, 6.5, actor="north")
    with pytest.raises(NotFound):
        svc.finalize_assessment(db, south_draft, actor="north")
    with pytest.raises(NotFound):
        svc.stop_assessment(db, south_draft, "pain", actor="north")
    with pytest.raises(NotFound):
        svc.open_drafts(db, "S1", actor="north")
    assert _rows(db) == before


def test_search_and_summaries_show_only_the_clinic(db, clinics):
    assert [p.mrn for p in svc.list_patients(db, actor="north")] == ["N1"]
    assert [p.mrn for p in svc.list_patients(db, search="Sven", actor="north")] == []
    assert sorted(p.mrn for p in svc.list_patients(db, actor="boss")) == ["N1", "S1"]
    assert sorted(svc.patient_summaries(db, ["N1", "S1"], actor="north")) == ["N1"]
    assert [p.mrn for p, _ in svc.due_for_reassessment(db, actor="north", on=date(2030, 1, 1)).patients] == ["N1"]


def test_writes_into_another_clinic_are_refused(db, clinics):
    before = _rows(db)
    with pytest.raises(NotFound):
        svc.update_patient(db, "S1", given_name="Changed", actor="north")
    with pytest.raises(OutOfScope):
        svc.add_patient(db, mrn="X9", given_name="A", family_name="B", birth_date="1950-01-01", sex=None,
                        clinic="South", actor="north")
    with pytest.raises(OutOfScope):
        svc.update_patient(db, "N1", clinic="South", actor="north")
    with pytest.raises(Conflict):  # an MRN is unique across the install; nothing about S1 is shown
        svc.add_patient(db, mrn="S1", given_name="A", family_name="B", birth_date="1950-01-01", sex=None, actor="north")
    with pytest.raises(NotFound):
        svc.record_assessment(db, "S1", {"trials": [6.0], "assessed_on": ON}, actor="north")
    assert _rows(db) == before


def test_csv_export_holds_only_the_clinic_and_a_clinic_column(db, clinics, tmp_path):
    out = tmp_path / "north.csv"
    export_csv(db, out, actor="north")
    text = out.read_text(encoding="utf-8")
    assert "Nora" in text and "Sven" not in text and "S1" not in text
    header = text.splitlines()[0].split(",")
    assert "clinic" in header
    everything = tmp_path / "all.csv"
    export_csv(db, everything, actor="boss")
    assert "Sven" in everything.read_text(encoding="utf-8")


def test_export_then_import_keeps_every_patients_clinic(db, other_db, clinics, tmp_path):
    out = tmp_path / "all.csv"
    export_csv(db, out, actor="boss")
    import_csv(other_db, out, actor="system")
    with other_db.session() as session:
        assert dict(session.execute(sa.select(Patient.mrn, Patient.clinic)).all()) == {"N1": "North", "S1": "South"}


def _csv(tmp_path, rows: list[str], name: str = "in.csv"):
    path = tmp_path / name
    path.write_text("mrn,given_name,family_name,birth_date,sex,population,clinic\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_csv_import_is_not_a_lookup_into_another_clinic(db, clinics, tmp_path):
    before = _rows(db)
    # The right name and birth date of South's patient: the answer must not confirm them ...
    right = _csv(tmp_path, ["S1,Sven,Test,1950-01-01,female,community,"], "right.csv")
    wrong = _csv(tmp_path, ["S1,Wrong,Name,1960-06-06,female,community,"], "wrong.csv")
    answers = []
    for path in (right, wrong):
        with pytest.raises(ImportRejected) as caught:
            import_csv(db, path, actor="north")
        answers.append([(p.field, p.reason) for p in caught.value.problems])
    assert answers[0] == answers[1] == [("mrn", "S1 is in use; allowed: a new MRN or a patient of your clinic")]
    # ... and an import cannot write into South, nor put a patient there.
    with pytest.raises(ImportRejected) as caught:
        import_csv(db, _csv(tmp_path, ["N7,New,Person,1950-01-01,female,community,South"], "south.csv"), actor="north")
    assert caught.value.problems[0].field == "clinic"
    assert _rows(db) == before


def test_csv_import_by_a_clinician_lands_in_their_clinic(db, clinics, tmp_path):
    import_csv(db, _csv(tmp_path, ["N8,New,Person,1950-01-01,female,community,"]), actor="north")
    assert svc.get_patient(db, "N8", actor="north").clinic == "North"
    with pytest.raises(NotFound):
        svc.get_patient(db, "N8", actor="south")


@pytest.mark.parametrize("row", [
    "N9,Ann,Lee,1950-01-01,female,community,,surplus",       # over-wide: one cell too many
    "N9,Ann,Lee,1950-01-01",                                   # ragged: cells missing
])
def test_ragged_or_over_wide_rows_are_bad_rows(db, clinics, tmp_path, row):
    before = _rows(db)
    with pytest.raises(ImportRejected) as caught:
        import_csv(db, _csv(tmp_path, [row]), actor="north")
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (2, "csv") and "the header has 7" in problem.reason
    assert _rows(db) == before


def test_every_refusal_is_audited_without_the_other_clinics_data(db, clinics):
    south_final, _ = clinics["S1"]
    with pytest.raises(NotFound):
        svc.get_assessment(db, south_final, actor="north")
    with db.session() as session:
        views = session.scalars(sa.select(AuditRow).where(AuditRow.actor == "north", AuditRow.action == "assessment.view")).all()
    assert views == []  # the refused read wrote no "viewed" row (the transaction rolled back)
