"""Every page through AppTest on a real SQLite file."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest

from models import load_default_model
from records import services
from ui import flow

from ui_helpers import click, signed_in, submit

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
    frame = at.table[0].value
    assert list(frame["MRN"]) == ["MRN001"]
    row = frame.iloc[0]
    assert row["Last assessment"] == assessed[1].assessed_on.isoformat()
    assert row["Time (s)"] == "4.00"  # shown as text, two decimals
    assert row["Risk"] == assessed[1].risk_category
    assert row["Due"] == "no"


def test_patients_duplicate_mrn_names_the_field(db, patient):
    at = signed_in("ui/pages/patients.py")
    at.text_input(key="add_mrn").input(patient.mrn)
    at.text_input(key="add_given").input("X")
    at.text_input(key="add_family").input("Y")
    at.date_input(key="add_birth").set_value(date(1950, 1, 2))
    submit(at, "add_patient", "Add patient")
    assert any("MRN" in e.value for e in at.error), [e.value for e in at.error]
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
    labels = [b.label for b in at.button if b.key in ("dl_patient", "dl_clinician")]
    assert labels == ["Download patient report (PDF)", "Download clinician report (PDF)"]
    assert not at.get("download_button")  # no report waits at a /media URL
    # nothing is rendered or audited as printed until it is asked for, however often the page reruns
    at.run()
    at.run()
    assert services.list_audit(db, action="report.print", entity="assessment", entity_id=second.id) == []
    click(at, "dl_patient")
    printed = services.list_audit(db, action="report.print", entity="assessment", entity_id=second.id)
    assert [p.detail for p in printed] == [{"kinds": ["patient"]}]
    at.run()
    assert len(services.list_audit(db, action="report.print", entity="assessment", entity_id=second.id)) == 1


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
    frame = at.table[0].value
    assert list(frame["Time (s)"]) == ["6.20", "4.00"]  # shown as text, two decimals
    # percentiles read as on the Result page: whole numbers, "<1" / ">99" at the ends
    from ui.common import percentile_text

    assert list(frame["Percentile"]) == [percentile_text(a.percentile) for a in assessed]
    assert percentile_text(0.4) == "<1" and percentile_text(99.6) == ">99" and percentile_text(63.8) == "64"
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
    frame = at.table[0].value
    assert list(frame["Version"]) == [1, 2]
    assert frame.iloc[1]["Amendment"] == "typo in footwear"
    assert frame.iloc[1]["ID"] == amended.id


def test_clinic_due_list_and_batch_print(db, assessed, delivered):
    services.add_patient(db, mrn="MRN009", given_name="Cy", family_name="Never", birth_date=date(1940, 1, 1),
                         sex="male", population="community", actor="jdoe")
    at = signed_in("ui/pages/clinic.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients"] == "2"
    assert metrics["Due for reassessment"] == "1"  # the never-assessed patient
    assert metrics["Never assessed"] == "1"
    assert list(at.dataframe[0].value["MRN"]) == ["MRN009"]
    at.radio(key="print_scope").set_value("patients matching a search").run()
    at.text_input(key="clinic_search").input("garc")
    click(at, "batch_print")
    assert not at.get("download_button")  # never at a /media URL
    [name] = [n for n in delivered if n.startswith("stepback-reports-")]
    with zipfile.ZipFile(io.BytesIO(delivered[name])) as zf:
        names = zf.namelist()
        assert len(names) == 2 and all(zf.read(n).startswith(b"%PDF-") for n in names)


def test_model_page_card_reliability_and_admin_gate(db):
    at = signed_in("ui/pages/model.py")
    model = load_default_model()
    assert {m.label: m.value for m in at.metric}["Active version"] == model.version
    assert len(at.get("vega_lite_chart")) == 1
    assert any("Only an admin" in i.value for i in at.info)
    at2 = signed_in("ui/pages/model.py", user="boss")  # the admin account of the db fixture
    click(at2, "recalibrate")
    # a new clinic has no outcomes: nothing is fitted or stored
    assert any("No assessment has a known 12-month outcome" in i.value for i in at2.info)
    assert services.list_model_versions(db) == []


def test_clinic_lists_patients_due_from_their_latest_assessment(db, patient):
    today = date.today()
    assess(db, patient.mrn, today - timedelta(days=400), [6.0], model=False)  # its date has long passed ...
    latest = assess(db, patient.mrn, today - timedelta(days=3), [4.0], model=False)  # ... but she was reassessed
    services.add_patient(db, mrn="MRN010", given_name="Di", family_name="Overdue", birth_date=date(1944, 2, 2),
                         sex="female", population="community", actor="jdoe")
    old = assess(db, "MRN010", today - timedelta(days=120), [5.5], model=False)
    at = signed_in("ui/pages/clinic.py")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Patients"], metrics["Due for reassessment"], metrics["Never assessed"]) == ("2", "1", "0")
    frame = at.dataframe[0].value
    assert list(frame["MRN"]) == ["MRN010"]
    assert frame.iloc[0]["Reassess on"] == old.reassess_on
    assert frame.iloc[0]["Days overdue"] == (today - old.reassess_on).days
    assert latest.reassess_on > today


def test_a_clinician_sees_the_patients_of_their_clinic(db):
    from ui_helpers import PASSWORD

    services.add_user(db, username="north1", password=PASSWORD, role="clinician", display_name="Nell North",
                      clinic="North", actor="boss")
    for mrn, family, clinic in (("N-1", "Nash", "North"), ("S-1", "Soto", "South"), ("X-1", "Xu", None)):
        services.add_patient(db, mrn=mrn, given_name="Pat", family_name=family, birth_date=date(1945, 1, 1),
                             sex="female", population="community", clinic=clinic, actor="boss")
    north = signed_in("ui/pages/patients.py", user="north1")
    assert [m.replace("\\", "") for m in north.table[0].value["MRN"]] == ["N-1"]  # escaped Markdown in the table
    assert any("Patients of North" in c.value for c in north.caption)
    # a patient added by a North clinician belongs to North
    north.text_input(key="add_mrn").input("N-2")
    north.text_input(key="add_given").input("Ned")
    north.text_input(key="add_family").input("Nye")
    north.date_input(key="add_birth").set_value(date(1950, 1, 2))
    submit(north, "add_patient", "Add patient")
    assert services.get_patient(db, "N-2").clinic == "North"
    north.switch_page("ui/pages/clinic.py").run()
    assert {m.label: m.value for m in north.metric}["Patients"] == "2"
    # the admin, and a clinician with no clinic (single-clinic install), see everyone
    for user in ("boss", "jdoe"):
        at = signed_in("ui/pages/patients.py", user=user)
        # the table's cells read Markdown, so patient text is shown escaped ("N\\-1" renders as "N-1")
        assert {m.replace("\\", "") for m in at.table[0].value["MRN"]} == {"N-1", "N-2", "S-1", "X-1"}, user
    # the patient picker of History (and the wizard, Result) is scoped the same way,
    # even for a patient remembered in session state from an earlier page
    north.session_state["selected_mrn"] = "S-1"
    north.switch_page("ui/pages/history.py").run()
    picker = [sb for sb in north.selectbox if sb.key.endswith("_pick")]
    assert picker and {o.split("MRN ")[1].split(" ")[0] for o in picker[0].options} == {"N-1", "N-2"}


def test_history_draws_the_populations_mdc_band_from_the_first_assessment(db, patient):
    from assessment import populations

    only = assess(db, patient.mrn, date.today() - timedelta(days=1), [5.0, 5.2], model=False)
    assert only.mdc95 is None  # no change was scored: nothing to compare with
    at = signed_in()
    at.session_state["selected_mrn"] = patient.mrn
    at.switch_page("ui/pages/history.py").run()
    assert not at.exception
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    proto = at.get("vega_lite_chart")[0].proto
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in proto.datasets]
    bands = [f for f in frames if "low" in f.columns]
    mdc = populations()["community"].mdc95_seconds
    assert len(bands) == 1
    assert (bands[0]["low"].item(), bands[0]["high"].item()) == (pytest.approx(5.1 - mdc), pytest.approx(5.1 + mdc))
    assert '"rect"' in proto.spec
    assert any(f"MDC95 ({mdc:.2f} s" in c.value for c in at.caption)


def test_history_amends_an_assessment_and_keeps_both_versions(db, assessed):
    at = signed_in()
    at.session_state["selected_mrn"] = "MRN001"
    at.switch_page("ui/pages/history.py").run()
    latest = assessed[-1]
    assert at.selectbox(key="amend_pick").value == latest.id
    at.text_input(key=f"amend_trials_{latest.id}").input("3.9, 4.1")
    submit(at, f"amend_{latest.id}", "Save the amendment")
    assert any(e.value.startswith("Reason:") for e in at.error), [e.value for e in at.error]
    assert len(services.history(db, "MRN001")) == 2 and services.history(db, "MRN001")[-1].version == 1
    at.text_input(key=f"amend_reason_{latest.id}").input("second walk typed wrongly")
    submit(at, f"amend_{latest.id}", "Save the amendment")
    assert not at.exception
    current = services.history(db, "MRN001")[-1]
    assert current.version == 2 and current.mean_seconds == pytest.approx(4.0)
    assert current.amendment_reason == "second walk typed wrongly"
    versions = services.assessment_versions(db, current.id)
    assert [v.version for v in versions] == [1, 2] and versions[0].superseded
    assert list(at.table[0].value["Version"]) == [1, 2]
