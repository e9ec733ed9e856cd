"""The one safety decision applied on every storage path (issue 9).

For each path that stores or changes a final assessment (record as the CLI
does, draft → finalize as the app does, CSV import, amendment, a change of
the patient's population), the stored program is checked against an
independent oracle of the rule (``tests/program/oracle.py``) on the stored
facts: never less restrictive, and the same tier when derived afresh.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.program import SAFETY_SCREEN_KEYS
from records import exchange
from records import services as svc
from tests.program.oracle import RANK, never_looser, oracle_tier, stored_facts

ASSESSED_ON = date(2024, 3, 4)  # as in conftest.py

CLEAR_SCREEN = {k: "no" for k in SAFETY_SCREEN_KEYS}
_mrns = itertools.count(1)


def _risk(category: str | None):
    def risk_fn(valid, result, predictors):
        if category is None or result.mean_seconds is None:
            return None
        return {"probability": 0.2, "probability_low": 0.1, "probability_high": 0.3, "risk_category": category,
                "model_version": "test-model"}
    return risk_fn


def _patient(db, population="community"):
    mrn = f"P{next(_mrns)}"
    svc.add_patient(db, mrn=mrn, given_name="Ada", family_name="Lovelace", birth_date=date(1940, 1, 1), sex="female",
                    population=population, actor="alice")
    return mrn


def _exact(view, patient_population):
    never_looser(view, patient_population)
    assert view.program_tier == oracle_tier(stored_facts(view, patient_population))


screens = st.one_of(
    st.none(),
    st.fixed_dictionaries({k: st.sampled_from(["yes", "no"]) for k in SAFETY_SCREEN_KEYS}),
)
walks = st.lists(st.floats(1.5, 14.0).map(lambda x: round(x, 2)), min_size=1, max_size=3)
populations = st.sampled_from(["community", "nursing_home", "parkinsons", "amputation", "knee_arthroplasty"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trials=walks, falls=st.sampled_from([None, 0, 1, "2+"]), aid=st.sampled_from([None, "yes", "no"]),
       device=st.sampled_from(["none", "cane", "walker"]), screen=screens, population=populations,
       category=st.sampled_from([None, "low", "moderate", "high"]))
def test_record_path_stores_the_rule(db, trials, falls, aid, device, screen, population, category):
    mrn = _patient(db, population)
    raw = {"trials": trials, "assessed_on": ASSESSED_ON, "prior_falls": falls, "walking_aid": aid,
           "assistive_device": device}
    if screen is not None:
        raw["safety_screen"] = screen
    view, _ = svc.record_assessment(db, mrn, raw, risk_fn=_risk(category), actor="alice")
    _exact(view, population)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trials=walks, lob=st.booleans(), falls=st.sampled_from([None, 0, 1, 2]), screen=screens,
       category=st.sampled_from([None, "low", "moderate"]))
def test_app_path_draft_then_finalize_stores_the_rule(db, trials, lob, falls, screen, category):
    mrn = _patient(db)
    draft = svc.start_assessment(db, mrn, assessed_on=ASSESSED_ON, safety_screen=screen, prior_falls=falls,
                                 actor="alice")
    for seconds in trials:
        svc.record_trial(db, draft, seconds, actor="alice")
    if lob:
        svc.update_trial_observations(db, draft, 1, loss_of_balance=True, actor="alice")
    view = svc.finalize_assessment(db, draft, risk_fn=_risk(category), actor="alice")
    _exact(view, "community")
    if lob:
        assert view.program_tier == "supervised"


def test_the_clear_walker_may_practise_alone_and_the_reviewers_cases_may_not(db):
    clear = {"trials": [2.8, 2.8], "assessed_on": ASSESSED_ON, "prior_falls": 0, "walking_aid": "no",
             "safety_screen": CLEAR_SCREEN}
    view, _ = svc.record_assessment(db, _patient(db), clear, risk_fn=_risk("low"), actor="alice")
    assert view.program_tier == "independent"
    # 5.57 s with a model category of "low": high band and past Polo-Ferrero's 5.5 s
    view, _ = svc.record_assessment(db, _patient(db), {**clear, "trials": [5.57, 5.6]}, risk_fn=_risk("low"),
                                    actor="alice")
    assert view.program_tier == "supervised"
    assert any("≥ 5.5 s" in r for r in view.program_reasons)
    # walked with a walker while the screen says no walking aid
    view, _ = svc.record_assessment(db, _patient(db), {**clear, "assistive_device": "walker"},
                                    risk_fn=_risk("low"), actor="alice")
    assert view.program_tier == "supervised"
    # a nursing-home resident at 7.9 s
    view, _ = svc.record_assessment(db, _patient(db, "nursing_home"), {**clear, "trials": [7.9]},
                                    risk_fn=_risk("low"), actor="alice")
    assert view.program_tier == "supported"


def test_amendment_re_derives_the_program(db):
    mrn = _patient(db)
    clear = {"trials": [2.8], "assessed_on": ASSESSED_ON, "prior_falls": 0, "walking_aid": "no",
             "safety_screen": CLEAR_SCREEN}
    view, _ = svc.record_assessment(db, mrn, clear, risk_fn=_risk("low"), actor="alice")
    assert view.program_tier == "independent"
    amended = svc.amend_assessment(db, view.id, {"prior_falls": "2+"}, reason="forgot the falls",
                                   risk_fn=_risk("low"), actor="alice")
    assert amended.program_tier == "supervised"
    _exact(amended, "community")
    amended = svc.amend_assessment(db, amended.id, {"trials": [{"seconds": 2.8, "loss_of_balance": True}],
                                                    "prior_falls": 0}, reason="lost balance", actor="alice")
    assert amended.program_tier == "supervised"
    _exact(amended, "community")


def test_a_population_change_re_derives_the_latest_program_and_is_audited(db):
    mrn = _patient(db)
    clear = {"trials": [2.8], "assessed_on": ASSESSED_ON, "prior_falls": 0, "walking_aid": "no",
             "safety_screen": CLEAR_SCREEN}
    view, _ = svc.record_assessment(db, mrn, clear, risk_fn=_risk("low"), actor="alice")
    assert view.program_tier == "independent"
    svc.update_patient(db, mrn, population="parkinsons", actor="bob")
    latest = svc.history(db, mrn)[-1]
    assert latest.program_tier == "supervised"
    assert any("Parkinson" in r for r in latest.program_reasons)
    never_looser(latest, "parkinsons")
    audit = svc.list_audit(db, action="program.rederive")
    assert audit and audit[0].actor == "bob" and audit[0].detail["to"] == "supervised"
    svc.update_patient(db, mrn, population="community", actor="bob")  # a corrected population lifts it again
    assert svc.history(db, mrn)[-1].program_tier == "independent"


CSV_HEADER = ("mrn,given_name,family_name,birth_date,sex,population,assessed_on,trial_1,prior_falls,walking_aid,"
              + ",".join(f"safety_{k}" for k in SAFETY_SCREEN_KEYS)
              + ",probability,probability_low,probability_high,risk_category,model_version")


def test_csv_import_re_scores_and_keeps_the_file_risk_only_as_external(db, tmp_path):
    path = tmp_path / "in.csv"
    screen = ",".join("no" for _ in SAFETY_SCREEN_KEYS)
    path.write_text(
        f"{CSV_HEADER}\n"
        f"X1,Ada,Lovelace,1940-01-01,female,community,2024-03-04,13.1,2+,no,{screen},0.01,0.0,0.02,low,made-up-9\n"
        f"X2,Bea,Lovelace,1940-01-01,female,community,2024-03-04,2.8,0,no,{screen},,,,,\n",
        encoding="utf-8",
    )
    exchange.import_csv(db, path, actor="alice", risk_fn=_risk("moderate"))
    slow = svc.history(db, "X1")[0]
    assert slow.program_tier == "supervised"
    assert (slow.risk_category, slow.model_version) == ("moderate", "test-model")  # the active model's, not the file's
    external = slow.score["external_risk"]
    assert external["risk_category"] == "low" and external["model_version"] == "made-up-9"
    assert "external" in external["label"] and "not used for the program" in external["label"]
    fast = svc.history(db, "X2")[0]
    assert fast.probability == 0.2 and "external_risk" not in fast.score  # rows without risk columns are scored too
    for view, pop in ((slow, "community"), (fast, "community")):
        _exact(view, pop)


def test_csv_import_refuses_another_population_than_the_patients(db, tmp_path):
    _ = svc.add_patient(db, mrn="PD1", given_name="Ada", family_name="L", birth_date=date(1940, 1, 1), sex="female",
                        population="parkinsons", actor="alice")
    path = tmp_path / "in.csv"
    path.write_text("mrn,given_name,family_name,birth_date,sex,population,assessed_on,assessment_population,trial_1\n"
                    "PD1,Ada,L,1940-01-01,female,parkinsons,2024-03-04,community,2.9\n", encoding="utf-8")
    before = svc.count_rows(db)
    with pytest.raises(exchange.ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    assert caught.value.problems[0].field == "assessment_population"
    assert {k: v for k, v in svc.count_rows(db).items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"}


def test_an_earlier_assessment_the_same_day_counts_as_previous(db, final_assessment):
    again, _ = svc.record_assessment(db, "M1", {"trials": [5.0], "assessed_on": ASSESSED_ON})
    assert again.previous_seconds == final_assessment.mean_seconds
    assert again.change_seconds == pytest.approx(5.0 - final_assessment.mean_seconds)


def test_change_is_judged_against_the_first_assessment_too(db, patient):
    # Three steps of 0.5 s, each under the community MDC95 (derived, about 0.88 s), add up to a real change.
    for day, seconds in ((1, 6.0), (2, 5.5), (3, 5.0), (4, 4.5)):
        view, _ = svc.record_assessment(db, "M1", {"trials": [seconds], "assessed_on": date(2024, 3, day)})
    assert view.change == "no_real_change"
    assert view.score["first_seconds"] == 6.0
    assert view.score["change_from_first_seconds"] == pytest.approx(-1.5)
    assert view.score["change_from_first"] == "improved"


def test_every_stored_final_row_has_a_program(db, final_assessment):
    assert final_assessment.program_tier in RANK and final_assessment.program_reasons
