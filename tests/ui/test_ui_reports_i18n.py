"""The handout language and the clinic settings in the app (AppTest on a real SQLite file)."""

from __future__ import annotations

import io
from datetime import date

import pdfplumber

from models import load_default_model
from records import services
from ui import flow

from ui_helpers import signed_in, submit

SCREEN = {"needed_help_or_lost_balance_in_test": False, "balance_disorder_or_vertigo": False,
          "neurological_condition": False, "acute_joint_injury_or_pain": False,
          "fall_with_injury_past_3_months": False, "uses_walking_aid": False, "has_treadmill_with_handrails": False}


def test_admin_saves_the_clinic_and_a_bad_phone_names_the_field(db):
    at = signed_in("ui/pages/admin.py", user="boss")
    at.text_input(key="admin_clinic_name").input("Riverside Falls Clinic")
    at.text_input(key="admin_clinic_phone").input("call us")
    submit(at, "clinic_settings", "Save clinic")
    assert any(e.value.startswith("Clinic phone:") for e in at.error), [e.value for e in at.error]
    assert services.get_clinic_settings(db) is None
    at.text_input(key="admin_clinic_phone").input("+1 555 0100")
    submit(at, "clinic_settings", "Save clinic")
    assert any("Clinic saved" in s.value for s in at.success)
    saved = services.get_clinic_settings(db)
    assert (saved.name, saved.phone, saved.updated_by) == ("Riverside Falls Clinic", "+1 555 0100", "boss")


def test_patient_form_stores_the_handout_language(db):
    at = signed_in("ui/pages/patients.py")
    at.text_input(key="add_mrn").input("Z1")
    at.text_input(key="add_given").input("秀英")
    at.text_input(key="add_family").input("王")
    at.date_input(key="add_birth").set_value(date(1946, 7, 2))
    at.selectbox(key="add_sex").set_value("female")
    at.selectbox(key="add_language").set_value("zh-Hans")
    submit(at, "add_patient", "Add patient")
    assert not at.error, [e.value for e in at.error]
    assert services.get_patient(db, "Z1").language == "zh-Hans"


def test_result_page_warns_before_an_unreviewed_handout_and_prints_the_clinic(db):
    services.set_clinic_settings(db, name="Riverside Falls Clinic", phone="+1 555 0100", actor="jdoe")
    services.add_patient(db, mrn="Z2", given_name="Ana", family_name="Ruiz", birth_date=date(1946, 5, 17),
                         sex="female", population="community", language="es", actor="jdoe")
    draft = services.start_assessment(db, "Z2", assessed_on=date.today(), footwear="shoes", safety_screen=SCREEN,
                                      prior_falls=0, walking_aid=False, actor="jdoe")
    for t in (4.1, 3.9):
        services.record_trial(db, draft, {"seconds": t, "timing_source": "manual"}, actor="jdoe")
    view = flow.finalize(db, draft, load_default_model(), actor="jdoe")
    at = signed_in()
    at.session_state["result_assessment_id"] = view.id
    at.switch_page("ui/pages/result.py").run()
    assert not at.exception
    assert any("not yet reviewed" in w.value for w in at.warning), [w.value for w in at.warning]
    patient_pdf, _, pm, _ = flow.build_reports(db, view.id, actor="jdoe", clinician="jdoe")
    assert pm.language == "es"
    with pdfplumber.open(io.BytesIO(patient_pdf)) as pdf:
        text = " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)
    assert "Pare enseguida y llámenos" in text and "Riverside Falls Clinic" in text and "+1 555 0100" in text
