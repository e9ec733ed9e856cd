"""Bulk patient summaries, "who is due", clinic scoping, and the reassessment date stored when final."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from assessment import InputError
from assessment.program import SAFETY_SCREEN_KEYS
from records import NotFound
from records import services as svc
from records.views import PatientSummary
from reports.inputs import program_for

BIRTH_DATE = date(1950, 3, 4)
SCREEN = {k: False for k in SAFETY_SCREEN_KEYS}
RISK = {"probability": 0.2, "probability_low": 0.1, "probability_high": 0.3, "risk_category": "low",
        "model_version": "v1"}


def add(db, mrn, family, clinic=None):
    return svc.add_patient(db, mrn=mrn, given_name="Pat", family_name=family, birth_date=BIRTH_DATE,
                           sex="female", clinic=clinic, actor="alice")


def record(db, mrn, on, times, **extra):
    view, _ = svc.record_assessment(db, mrn, {"trials": times, "assessed_on": on, **extra}, actor="alice")
    return view


def _statements(db):
    """Count the SQL statements the engine runs (to check 'one or two queries')."""
    seen: list[str] = []

    def before(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    return seen, lambda: sa.event.remove(db.engine, "before_cursor_execute", before)


# ----------------------------------------------------------- reassess_on


def test_every_way_to_a_final_row_stores_the_programs_reassessment_date(db, patient):
    recorded = record(db, patient.mrn, date(2024, 3, 4), [5.0, 5.2], safety_screen=SCREEN)
    assert recorded.reassess_on == program_for(recorded).reassess_on
    assert recorded.reassess_on > recorded.assessed_on

    draft = svc.start_assessment(db, patient.mrn, assessed_on=date(2024, 6, 1), safety_screen=SCREEN)
    svc.record_trial(db, draft, 5.5)
    finalized = svc.finalize_assessment(db, draft, risk=RISK)
    assert finalized.reassess_on == program_for(finalized).reassess_on

    amended = svc.amend_assessment(db, finalized.id, {"assessed_on": date(2024, 6, 3)}, reason="wrong date")
    assert amended.reassess_on == program_for(amended).reassess_on
    assert amended.reassess_on - finalized.reassess_on == timedelta(days=2)
    assert svc.get_assessment(db, finalized.id).reassess_on == finalized.reassess_on  # old row untouched


def test_a_risk_category_the_program_does_not_know_is_refused(db, patient):
    draft = svc.start_assessment(db, patient.mrn, assessed_on=date(2024, 6, 1))
    svc.record_trial(db, draft, 5.5)
    with pytest.raises(InputError) as err:
        svc.finalize_assessment(db, draft, risk={**RISK, "risk_category": "medium"})
    assert err.value.field == "risk.risk_category" and "low, moderate, high" in err.value.message
    assert svc.get_assessment(db, draft).status == "draft"


# ------------------------------------------------------------- summaries


def test_summaries_give_each_patients_latest_current_final_assessment(db):
    add(db, "A1", "Alpha")
    add(db, "B1", "Beta")
    add(db, "C1", "Gamma")  # never assessed
    record(db, "A1", date(2024, 1, 10), [6.0])
    latest_a = record(db, "A1", date(2024, 5, 10), [5.0, 5.4])
    older_b = record(db, "B1", date(2024, 2, 1), [7.0])
    newer_b = record(db, "B1", date(2024, 4, 1), [4.0])
    # amending B's newer visit to an earlier date makes the other one the latest
    svc.amend_assessment(db, newer_b.id, {"assessed_on": date(2024, 1, 15)}, reason="date typo")
    draft = svc.start_assessment(db, "C1", assessed_on=date(2024, 6, 1))  # drafts do not count
    svc.record_trial(db, draft, 4.0)

    out = svc.patient_summaries(db, ["A1", "B1", "C1", "NOPE"])
    assert set(out) == {"A1", "B1", "C1"}
    a = out["A1"]
    assert (a.assessment_id, a.last_assessed_on, a.last_mean_seconds, a.band, a.reassess_on) == (
        latest_a.id, date(2024, 5, 10), pytest.approx(5.2), latest_a.band, latest_a.reassess_on)
    assert out["B1"].assessment_id == older_b.id and out["B1"].last_mean_seconds == pytest.approx(7.0)
    assert out["C1"] == PatientSummary("C1", None, None, None, None, None, None)
    assert not out["C1"].assessed and out["C1"].is_due()


def test_summaries_agree_with_history(db):
    for i, family in enumerate(["Ames", "Bell", "Cruz", "Dunn"]):
        add(db, f"P{i}", family)
        for k in range(i + 1):
            record(db, f"P{i}", date(2023, 1, 1) + timedelta(days=40 * k + i), [5.0 + k / 10 + i / 100])
    out = svc.patient_summaries(db, [f"P{i}" for i in range(4)])
    for i in range(4):
        last = svc.history(db, f"P{i}")[-1]
        got = out[f"P{i}"]
        assert (got.assessment_id, got.last_assessed_on, got.last_mean_seconds, got.risk_category,
                got.reassess_on) == (last.id, last.assessed_on, last.mean_seconds, last.risk_category,
                                     program_for(last).reassess_on)


def test_summaries_take_one_query_however_many_patients(db):
    for i in range(30):
        add(db, f"Q{i:02d}", f"Q{i:02d}x")
        record(db, f"Q{i:02d}", date(2024, 1, 1) + timedelta(days=i), [5.0])
    seen, stop = _statements(db)
    try:
        out = svc.patient_summaries(db, [f"Q{i:02d}" for i in range(30)])
    finally:
        stop()
    assert len(out) == 30
    assert len(seen) == 1, seen


def test_summaries_check_their_input(db):
    assert svc.patient_summaries(db, []) == {}
    with pytest.raises(InputError) as err:
        svc.patient_summaries(db, "A1")
    assert err.value.field == "mrns"
    with pytest.raises(InputError) as err:
        svc.patient_summaries(db, [f"M{i}" for i in range(1001)])
    assert err.value.field == "mrns" and "1000" in err.value.message


# ------------------------------------------------------------------- due


def test_due_is_the_latest_assessments_reassessment_date(db):
    today = date.today()
    add(db, "OLD", "Old")  # assessed long ago: due
    add(db, "NEW", "New")  # reassessed last week: not due, though its older visit's date has passed
    add(db, "NEVER", "Never")  # never assessed: due
    old = record(db, "OLD", today - timedelta(days=200), [5.0], safety_screen=SCREEN)
    record(db, "NEW", today - timedelta(days=300), [5.0], safety_screen=SCREEN)
    new = record(db, "NEW", today - timedelta(days=7), [5.0], safety_screen=SCREEN)
    assert new.reassess_on > today > old.reassess_on

    report = svc.due_for_reassessment(db)
    assert (report.total_patients, report.due_total, report.never_assessed) == (3, 2, 1)
    assert [(p.mrn, s.assessment_id) for p, s in report.patients] == [("NEVER", None), ("OLD", old.id)]
    assert sum(report.risk_mix.values()) == 3
    assert report.risk_mix[(None, None)] == 1
    # on the day NEW's reassessment falls due, it is due too, and the list is most overdue first
    later = svc.due_for_reassessment(db, on=new.reassess_on)
    assert [p.mrn for p, _ in later.patients] == ["NEVER", "OLD", "NEW"]
    assert [p.mrn for p, _ in svc.due_for_reassessment(db, on=new.reassess_on, limit=2).patients] == ["NEVER", "OLD"]
    assert svc.due_for_reassessment(db, on=new.reassess_on, limit=2).due_total == 3


def test_a_stored_row_without_a_date_counts_as_due(db, patient):
    view = record(db, patient.mrn, date.today() - timedelta(days=3), [5.0], safety_screen=SCREEN)
    assert svc.due_for_reassessment(db).due_total == 0
    with db.engine.begin() as connection:  # a row from before migration 0003 that the backfill could not date
        connection.execute(sa.text("UPDATE assessments SET reassess_on = NULL WHERE id = :id"), {"id": view.id})
    assert svc.due_for_reassessment(db).due_total == 1


def test_due_checks_its_input(db):
    with pytest.raises(InputError) as err:
        svc.due_for_reassessment(db, limit=0)
    assert err.value.field == "limit"
    with pytest.raises(InputError) as err:
        svc.due_for_reassessment(db, on="soon")
    assert err.value.field == "on"


# -------------------------------------------------------- clinic scoping


@pytest.fixture
def two_clinics(db):
    today = date.today()
    add(db, "N1", "Nash", clinic="North")
    add(db, "N2", "Noor", clinic="North")
    add(db, "S1", "Soto", clinic="South")
    add(db, "X1", "Xu")  # no clinic
    for mrn in ("N1", "S1"):
        record(db, mrn, today - timedelta(days=365), [5.0])
    svc.add_user(db, username="admin", password="a long admin passphrase", role="admin", actor="system")
    svc.add_user(db, username="north", password="a long north passphrase", clinic="North", actor="admin")
    svc.add_user(db, username="solo", password="a long solo passphrase", actor="admin")  # single-clinic install
    return db


def test_clinic_scope_comes_from_the_clinicians_table(two_clinics):
    db = two_clinics
    assert svc.clinic_scope(db, "north") == "North"
    assert svc.clinic_scope(db, "solo") is None
    assert svc.clinic_scope(db, "admin") is None
    assert svc.clinic_scope(db, "system") is None
    with pytest.raises(NotFound) as err:
        svc.clinic_scope(db, "ghost")
    assert err.value.field == "username"


def test_lists_summaries_and_due_are_filtered_by_clinic(two_clinics):
    db = two_clinics
    assert [p.mrn for p in svc.list_patients(db, clinic="North")] == ["N1", "N2"]
    assert [p.mrn for p in svc.list_patients(db, search="s", clinic="South")] == ["S1"]
    assert {p.mrn for p in svc.list_patients(db)} == {"N1", "N2", "S1", "X1"}
    assert set(svc.patient_summaries(db, ["N1", "N2", "S1", "X1"], clinic="North")) == {"N1", "N2"}
    north = svc.due_for_reassessment(db, clinic="North")
    assert (north.total_patients, north.due_total) == (2, 2)
    assert {p.mrn for p, _ in north.patients} == {"N1", "N2"}
    assert svc.due_for_reassessment(db).total_patients == 4
    assert svc.list_patients(db, clinic="Nowhere") == []


def test_clinic_is_set_on_add_and_update(db):
    p = add(db, "Z1", "Zed", clinic="  East  ")
    assert p.clinic == "East"
    assert svc.update_patient(db, "Z1", clinic="West").clinic == "West"
    assert svc.update_patient(db, "Z1", clinic=None).clinic is None
    assert svc.get_patient(db, "Z1").clinic is None
    assert svc.update_patient(db, "Z1", given_name="Zoe").clinic is None


@pytest.mark.parametrize("bad", ["x" * 201, 7, "North\x00"])
def test_a_bad_clinic_names_the_field(db, bad):
    with pytest.raises(InputError) as err:
        add(db, "Z2", "Zed", clinic=bad)
    assert err.value.field == "clinic"
    with pytest.raises(InputError) as err:
        svc.list_patients(db, clinic=bad)
    assert err.value.field == "clinic"


def test_migration_0003_backfills_the_reassessment_date_of_existing_rows(db, patient):
    screened = record(db, patient.mrn, date(2024, 3, 4), [5.0, 5.2], safety_screen=SCREEN)
    draft = svc.start_assessment(db, patient.mrn, assessed_on=date(2024, 5, 1), safety_screen=SCREEN)
    svc.record_trial(db, draft, {"seconds": 6.0, "valid": False, "invalid_reason": "stumbled",
                                 "loss_of_balance": True})
    svc.record_trial(db, draft, 6.2)
    balance = svc.finalize_assessment(db, draft, risk=RISK)
    open_draft = svc.start_assessment(db, patient.mrn, assessed_on=date(2024, 6, 1))
    svc.update_patient(db, patient.mrn, clinic="North")

    db.downgrade("0002")  # the columns are gone, as before this revision
    db.upgrade()
    for before in (screened, balance):
        after = svc.get_assessment(db, before.id)
        assert after.reassess_on == before.reassess_on == program_for(after).reassess_on
    assert svc.get_assessment(db, open_draft).reassess_on is None  # drafts get theirs when final
    assert svc.get_patient(db, patient.mrn).clinic is None  # the clinic column was dropped and re-added


def test_an_imported_assessment_gets_its_reassessment_date_too(db, patient, tmp_path):
    from records import open_database

    original = record(db, patient.mrn, date(2024, 3, 4), [5.0, 5.2], safety_screen=SCREEN)
    svc.export_csv(db, tmp_path / "out.csv", actor="alice")
    other = open_database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        svc.import_csv(other, tmp_path / "out.csv", actor="alice")
        [imported] = svc.history(other, patient.mrn)
        assert imported.reassess_on == original.reassess_on == program_for(imported).reassess_on
    finally:
        other.dispose()
