"""A rejected input writes nothing: every table's row count is unchanged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from assessment import InputError
from records import Conflict, NotFound
from records import services as svc

BIRTH_DATE = date(1950, 3, 4)
ASSESSED_ON = date(2024, 3, 4)
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.fixture
def seeded(db):
    """One patient with a final assessment, a draft with one trial, two model versions."""
    svc.add_patient(db, mrn="M1", given_name="Ada", family_name="Lovelace", birth_date=BIRTH_DATE, sex="female")
    final, _ = svc.record_assessment(db, "M1", {"trials": [6.0, 6.4], "assessed_on": ASSESSED_ON})
    svc.amend_assessment(db, final.id, {"trials": [6.1, 6.4]}, reason="typo")
    draft = svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON)
    svc.record_trial(db, draft, 6.0)
    svc.save_model_version(db, version="v1", kind="evidence", artifact=b"one", card="card", metrics={})
    return db, {"final": final.id, "draft": draft}


def _record(raw):
    return lambda db, ids: svc.record_assessment(db, "M1", {"trials": [6.0], "assessed_on": ASSESSED_ON, **raw})


def _new_patient(**changes):
    fields = {"mrn": "P2", "given_name": "Bo", "family_name": "Li", "birth_date": BIRTH_DATE, "sex": "male", **changes}
    return lambda db, ids: svc.add_patient(db, **fields)


def _risk(risk):
    return lambda db, ids: svc.record_assessment(
        db, "M1", {"trials": [6.0], "assessed_on": ASSESSED_ON}, risk_fn=lambda a, s, p: risk
    )


CASES = [
    # (id, action, error type, field)
    ("trial time too long", _record({"trials": [500]}), InputError, "trial_1"),
    ("trial time too short", _record({"trials": [6.0, 0.2]}), InputError, "trial_2"),
    ("trial time not a number", _record({"trials": ["six"]}), InputError, "trial_1"),
    ("draft trial time", lambda db, ids: svc.record_trial(db, ids["draft"], 999), InputError, "trial_2"),
    ("hands-on assistance marked valid",
     _record({"trials": [{"seconds": 6.0, "hands_on_assistance": True}]}), InputError, "trial_1.valid"),
    ("hands-on assistance marked valid in a draft",
     lambda db, ids: svc.record_trial(db, ids["draft"], {"seconds": 6.0, "hands_on_assistance": "yes"}),
     InputError, "trial_2.valid"),
    ("unknown population in an assessment", _record({"population": "mars"}), InputError, "population"),
    ("future assessment date", _record({"assessed_on": TOMORROW}), InputError, "assessed_on"),
    ("previous time typed in", _record({"previous_seconds": 7.0}), InputError, "previous_seconds"),
    ("unknown assessment key", _record({"colour": "red"}), InputError, "colour"),
    ("bad prior falls", _record({"prior_falls": "many"}), InputError, "prior_falls"),
    ("bad walking aid", _record({"walking_aid": "sometimes"}), InputError, "walking_aid"),
    ("bad STEADI", _record({"steadi": {"tug_seconds": 0}}), InputError, "steadi.tug_seconds"),
    ("risk out of range", _risk({"probability": 1.5}), InputError, "risk.probability"),
    ("unknown patient", lambda db, ids: svc.record_assessment(db, "NOPE", {"trials": [6.0]}), NotFound, "mrn"),
    ("bad MRN", _new_patient(mrn="M 1"), InputError, "mrn"),
    ("duplicate MRN", _new_patient(mrn="M1"), Conflict, "mrn"),
    ("unknown population for a patient", _new_patient(population="mars"), InputError, "population"),
    ("control character in a name", _new_patient(given_name="Bo\x07"), InputError, "given_name"),
    ("too young", _new_patient(birth_date=date.today().replace(year=date.today().year - 17)), InputError, "birth_date"),
    ("update to a bad name", lambda db, ids: svc.update_patient(db, "M1", family_name=""), InputError, "family_name"),
    ("bad footwear", lambda db, ids: svc.start_assessment(db, "M1", assessed_on=ASSESSED_ON, footwear="socks"),
     InputError, "footwear"),
    ("bad stop reason", lambda db, ids: svc.stop_assessment(db, ids["draft"], "bored"), InputError, "stop_reason"),
    ("trial on a final assessment", lambda db, ids: svc.record_trial(db, ids["final"], 6.0), Conflict, "assessment_id"),
    ("amend a superseded version",
     lambda db, ids: svc.amend_assessment(db, ids["final"], {"trials": [6.2]}, reason="again"), Conflict, "assessment_id"),
    ("amend with a bad trial",
     lambda db, ids: svc.amend_assessment(db, ids["final"] + 1, {"trials": [0]}, reason="fix"), InputError, "trial_1"),
    ("finalize a final assessment", lambda db, ids: svc.finalize_assessment(db, ids["final"]), Conflict, "assessment_id"),
    ("fall in the future", lambda db, ids: svc.record_fall(db, "M1", occurred_on=TOMORROW), InputError, "occurred_on"),
    ("fall before birth", lambda db, ids: svc.record_fall(db, "M1", occurred_on="1949-01-01"), InputError, "occurred_on"),
    ("bad actor", lambda db, ids: svc.record_fall(db, "M1", occurred_on="2024-05-01", actor="x y"), InputError, "actor"),
    ("duplicate model version",
     lambda db, ids: svc.save_model_version(db, version="v1", kind="evidence", artifact=b"x", card="c", metrics={}),
     Conflict, "version"),
    ("metrics not JSON",
     lambda db, ids: svc.save_model_version(db, version="v2", kind="evidence", artifact=b"x", card="c", metrics={"a": object()}),
     InputError, "metrics"),
    ("activate an unknown model", lambda db, ids: svc.activate_model_version(db, "v9"), NotFound, "version"),
]


@pytest.mark.parametrize(("action", "error", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rejected_input_changes_no_table(seeded, action, error, field):
    db, ids = seeded
    before = svc.count_rows(db)
    assert before["assessments"] == 3 and before["audit_log"] > 0
    with pytest.raises(error) as info:
        action(db, ids)
    assert info.value.field == field
    assert svc.count_rows(db) == before
