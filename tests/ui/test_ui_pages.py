"""Every page through AppTest on a real SQLite file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models import load_default_model
from records import services
from ui import flow

from ui_helpers import APP, TIMEOUT, click, signed_in, submit

SCREEN = {"needed_help_or_lost_balance_in_test": False, "balance_disorder_or_vertigo": False, "neurological_condition": False,
          "acute_joint_injury_or_pain": False, "fall_with_injury_past_3_months": False, "uses_walking_aid": False,
          "has_treadmill_with_handrails": False}


def assess(db, mrn, on, times, *, model=True):
    draft = services.start_assessment(db, mrn, assessed_on=on, footwear="shoes", safety_screen=SCREEN,
                                      prior_falls=0, walking_aid=False, actor="jdoe")
    for t in times:
        services.record_trial(db, draft, {"seconds": t, "timing_source": "manual"}, actor="jdoe")
    return flow.finalize(db, draft, load_default_model() if model else None, actor="jdoe")


@pytest.fixture
def assessed(db, patient):
    today = date.today()
    first = assess(db, patient.mrn, today - timedelta(days=400), [6.0, 6.4])
    second = assess(db, patient.mrn, today - timedelta(days=2), [4.1, 3.9])
    return first, second


def texts(at):
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader")
                    for e in getattr(at, kind))


def test_sign_in_picks_a_clinician(db_url, db):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="signin_username").input("new.user")
    at.text_input(key="signin_display").input("New User")
    submit(at, "sign_in", "Continue")
    assert at.session_state["clinician"] == "new.user"
    assert [t.value for t in at.title] == ["Patients"]
    at2 = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at2.text_input(key="signin_username").input("bad user!")
    submit(at2, "sign_in", "Continue")
    assert any("username" in e.value for e in at2.error)
    assert "clinician" not in at2.session_state


def test_patients_add_search_and_summary(db, assessed):
    at = signed_in("ui/pages/patients.py")
    at.text_input(key="add_mrn").input("MRN002")
    at.text_input(key="add_given").input("Bo")
    at.text_input(key="add_family").input("Lindqvist")
    at.date_input(key="add_birth").set_value(date(1950, 1, 2))
    at.selectbox(key="add_sex").set_value("male")
    submit(at, "add_patient", "Add patient")
    assert services.get_patient(db, "MRN002").family_name == "Lindqvist"
    assert any("Added Bo Lindqvist" in s.value for s in at.success)
    at.text_input(key="patients_search").input("garc").run()
    frame = at.dataframe[0].value
    assert list(frame["MRN"]) == ["MRN001"]
    row = frame.iloc[0]
    assert row["Last assessment"] == assessed[1].assessed_on
    assert row["Time (s)"] == pytest.approx(4.0)
    assert row["Risk"] == assessed[1].risk_category
    assert bool(row["Due"]) is False


def test_patients_duplicate_mrn_names_the_field(db, patient):
    at = signed_in("ui/pages/patients.py")
    at.text_input(key="add_mrn").input(patient.mrn)
    at.text_input(key="add_given").input("X")
    at.text_input(key="add_family").input("Y")
    at.date_input(key="add_birth").set_value(date(1950, 1, 2))
    submit(at, "add_patient", "Add patient")
    assert any("mrn" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_input(key="add_given").value == "X"  # nothing typed is lost


def test_result_page_shows_time_risk_change_program_and_reports(db, assessed):
    first, second = assessed
    at = signed_in()
    at.session_state["result_assessment_id"] = second.id
    at.switch_page("ui/pages/result.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Time (mean)"] == "4.00 s"
    assert metrics["Speed"] == "0.75 m/s"
    pct = round(100 * second.probability)
    assert metrics["Chance of a fall (model estimate)"] == f"{pct} in 100"
    body = texts(at)
    assert second.score["band_label"] in body
    # 6.2 s → 4.0 s: the change and its verdict against the MDC95
    assert metrics["Change"] == f"{second.change_seconds:+.2f} s"
    assert {"improved": "Real improvement", "no_real_change": "Within measurement error",
            "worse": "Real decline"}[second.change] in body
    assert "Safe starting program" in body
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download patient report (PDF)", "Download clinician report (PDF)"]


def test_result_page_without_model_says_so(db, patient):
    view = assess(db, patient.mrn, date.today(), [5.0], model=False)
    at = signed_in()
    at.session_state["result_assessment_id"] = view.id
    at.switch_page("ui/pages/result.py").run()
    assert any("No model probability" in i.value for i in at.info)


def test_history_trend_table_and_fall(db, assessed):
    at = signed_in()
    at.session_state["selected_mrn"] = "MRN001"
    at.switch_page("ui/pages/history.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["Time (s)"]) == [pytest.approx(6.2), pytest.approx(4.0)]
    assert len(at.get("vega_lite_chart")) == 1
    at.date_input(key="fall_date").set_value(date.today() - timedelta(days=1))
    at.radio(key="fall_injury").set_value("Yes")
    submit(at, "record_fall", "Record fall")
    falls = services.list_falls(db, "MRN001")
    assert len(falls) == 1 and falls[0].injury is True


def test_history_shows_amendments(db, assessed):
    amended = services.amend_assessment(db, assessed[1].id, {"footwear": "barefoot"}, reason="typo in footwear",
                                        actor="jdoe")
    at = signed_in()
    at.session_state["selected_mrn"] = "MRN001"
    at.switch_page("ui/pages/history.py").run()
    frame = at.dataframe[0].value
    assert list(frame["Version"]) == [1, 2]
    assert frame.iloc[1]["Amendment"] == "typo in footwear"
    assert frame.iloc[1]["ID"] == amended.id


def test_clinic_due_list_and_batch_print(db, assessed):
    services.add_patient(db, mrn="MRN009", given_name="Cy", family_name="Never", birth_date=date(1940, 1, 1),
                         sex="male", population="community", actor="jdoe")
    at = signed_in("ui/pages/clinic.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients reviewed"] == "2"
    assert metrics["Due for reassessment"] == "1"  # the never-assessed patient
    at.radio(key="print_scope").set_value("all patients reviewed")
    click(at, "batch_print")
    assert [b.label for b in at.get("download_button")] == ["Download all reports (ZIP)"]


def test_model_page_card_reliability_and_admin_gate(db):
    at = signed_in("ui/pages/model.py")
    model = load_default_model()
    assert {m.label: m.value for m in at.metric}["Active version"] == model.version
    assert len(at.get("vega_lite_chart")) == 1
    assert any("Only an admin" in i.value for i in at.info)
    at2 = signed_in()
    at2.session_state["clinician_role"] = "admin"
    at2.switch_page("ui/pages/model.py").run()
    click(at2, "recalibrate")
    # a new clinic has no outcomes: nothing is fitted or stored
    assert any("No assessment has a known 12-month outcome" in i.value for i in at2.info)
    assert services.list_model_versions(db) == []
