"""Patients and clinicians: Unicode names, search, updates, validation, audit."""

from __future__ import annotations

import dataclasses
import itertools
import unicodedata
import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment import InputError
from records import Conflict, Database, NotFound
from records import services as svc

BIRTH_DATE = date(1950, 3, 4)

UNICODE_NAMES = [
    ("Zoë", "Øster-Ñúñez"),
    ("Łukasz", "Żółć"),
    ("Σοφία", "Παπαδοπούλου"),
    ("Анна", "Иванова"),
]


@pytest.mark.parametrize(("given_name", "family_name"), UNICODE_NAMES)
def test_unicode_names_round_trip(db, given_name, family_name):
    svc.add_patient(db, mrn="U1", given_name=given_name, family_name=family_name, birth_date="1948-07-01", sex=None)
    fresh = Database(db.url)  # a new engine: the value comes from the file, not a cache
    try:
        stored = svc.get_patient(fresh, "U1")
    finally:
        fresh.dispose()
    assert (stored.given_name, stored.family_name) == (given_name, family_name)
    assert stored.full_name.encode("utf-8") == f"{given_name} {family_name}".encode()


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ab-", {"AB-1", "AB-2"}),  # MRN prefix, case-insensitive
        ("AB-1", {"AB-1"}),
        ("B-1", set()),  # MRN matches by prefix only
        ("σοφία", {"CD-3"}),  # Greek, lower case finds upper case
        ("ИВАНОВА", {"CD-4"}),  # Cyrillic, upper case finds lower case
        ("ster-ñú", {"AB-1"}),  # substring with accents
        ("łukasz żół", {"AB-2"}),  # across given and family name
        ("%", set()),  # LIKE wildcards are literal
        ("_", set()),
        ("", {"AB-1", "AB-2", "CD-3", "CD-4"}),
    ],
)
def test_search_by_mrn_prefix_or_name_substring(db, search, expected):
    for mrn, (given_name, family_name) in zip(["AB-1", "AB-2", "CD-3", "CD-4"], UNICODE_NAMES):
        svc.add_patient(db, mrn=mrn, given_name=given_name, family_name=family_name, birth_date=BIRTH_DATE, sex=None)
    assert {p.mrn for p in svc.list_patients(db, search=search)} == expected


def test_list_limit(db):
    for i in range(5):
        svc.add_patient(db, mrn=f"L{i}", given_name="Ann", family_name=f"Lee{i}", birth_date=BIRTH_DATE, sex=None)
    assert len(svc.list_patients(db, limit=3)) == 3
    with pytest.raises(InputError) as info:
        svc.list_patients(db, limit=0)
    assert info.value.field == "limit"


def test_get_unknown_patient_is_not_found(db):
    with pytest.raises(NotFound) as info:
        svc.get_patient(db, "NOPE")
    assert info.value.field == "mrn"
    assert isinstance(info.value, InputError)


def test_duplicate_mrn_is_a_conflict(db, patient):
    with pytest.raises(Conflict) as info:
        svc.add_patient(db, mrn="M1", given_name="Other", family_name="Person", birth_date=BIRTH_DATE, sex=None)
    assert (info.value.field, info.value.message) == ("mrn", "M1 already exists")


def test_update_patient_changes_fields_and_search_keys(db, patient):
    updated = svc.update_patient(db, "M1", family_name="Byron", population="stroke", mrn="M1-B", actor="bob")
    assert (updated.mrn, updated.family_name, updated.population) == ("M1-B", "Byron", "stroke")
    assert updated.updated_at >= updated.created_at
    assert [p.mrn for p in svc.list_patients(db, search="byron")] == ["M1-B"]
    assert svc.list_patients(db, search="lovelace") == []
    with pytest.raises(NotFound):
        svc.get_patient(db, "M1")


def test_update_patient_to_a_taken_mrn_is_a_conflict(db, patient):
    svc.add_patient(db, mrn="M2", given_name="Bo", family_name="Li", birth_date=BIRTH_DATE, sex="male")
    with pytest.raises(Conflict) as info:
        svc.update_patient(db, "M2", mrn="M1")
    assert info.value.field == "mrn"


def test_update_patient_rejects_unknown_fields(db, patient):
    with pytest.raises(InputError) as info:
        svc.update_patient(db, "M1", nickname="Ada")
    assert info.value.field == "nickname"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mrn": ""}, "mrn"),
        ({"mrn": "M 1"}, "mrn"),
        ({"mrn": "M1;DROP"}, "mrn"),
        ({"mrn": "M" * 65}, "mrn"),
        ({"given_name": "   "}, "given_name"),
        ({"given_name": "Ann\x00"}, "given_name"),
        ({"family_name": "Lee\nSmith"}, "family_name"),
        ({"family_name": "x" * 201}, "family_name"),
        ({"given_name": "1234"}, "given_name"),
        ({"birth_date": "31/12/1950"}, "birth_date"),
        ({"birth_date": "1890-01-01"}, "birth_date"),
        ({"birth_date": date.today().replace(year=date.today().year - 10).isoformat()}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"sex": "x"}, "sex"),
        ({"population": "mars"}, "population"),
    ],
)
def test_bad_patient_fields_name_the_field(db, changes, field):
    raw = {"mrn": "P1", "given_name": "Ann", "family_name": "Lee", "birth_date": BIRTH_DATE, "sex": "female", **changes}
    with pytest.raises(InputError) as info:
        svc.add_patient(db, **raw)
    assert info.value.field == field
    assert "allowed" in info.value.message


def test_names_are_stripped_and_sex_unknown_is_none(db):
    p = svc.add_patient(db, mrn=" P2 ", given_name="  Ann ", family_name=" Lee", birth_date="1950-01-01", sex="unknown")
    assert (p.mrn, p.given_name, p.family_name, p.sex) == ("P2", "Ann", "Lee", None)


def test_views_are_frozen(patient):
    with pytest.raises(dataclasses.FrozenInstanceError):
        patient.given_name = "Eve"


def test_patient_actions_are_audited_without_names(db):
    for i, (given_name, family_name) in enumerate(UNICODE_NAMES, start=1):
        svc.add_patient(db, mrn=f"A{i}", given_name=given_name, family_name=family_name, birth_date=BIRTH_DATE, sex=None, actor="alice")
    svc.get_patient(db, "A1", actor="bob")
    svc.list_patients(db, search="Σοφία", actor="bob")
    svc.update_patient(db, "A2", given_name="Łucja", actor="carol")
    svc.record_fall(db, "A3", occurred_on="2024-01-02", notes="Σοφία tripped on the rug", actor="bob")
    rows = svc.list_audit(db, limit=100)
    actions = [(r.actor, r.action) for r in reversed(rows)]
    assert actions == [("alice", "patient.create")] * 4 + [
        ("bob", "patient.view"), ("bob", "patient.search"), ("carol", "patient.update"), ("bob", "fall.record"),
    ]
    text = json.dumps([dataclasses.asdict(r) for r in rows], default=str, ensure_ascii=False)
    for given_name, family_name in [*UNICODE_NAMES, ("Łucja", "")]:
        assert given_name not in text
        assert family_name == "" or family_name not in text


def test_clinicians(db):
    alice = svc.add_clinician(db, username="alice", display_name="Alice Ng", role="admin")
    assert (alice.username, alice.display_name, alice.role) == ("alice", "Alice Ng", "admin")
    assert svc.ensure_clinician(db, "alice") == alice
    bob = svc.ensure_clinician(db, "bob", "Bob Ó Briain")
    assert (bob.display_name, bob.role) == ("Bob Ó Briain", "clinician")
    assert svc.count_rows(db)["clinicians"] == 2
    with pytest.raises(Conflict) as info:
        svc.add_clinician(db, username="bob", display_name="Bob Two")
    assert info.value.field == "username"
    with pytest.raises(InputError) as info:
        svc.add_clinician(db, username="eve", display_name="Eve", role="superuser")
    assert info.value.field == "role"


_letters = st.characters(categories=("Lu", "Ll", "Lo", "Mn"))
_name = st.text(_letters, min_size=1, max_size=40).filter(
    lambda s: any(unicodedata.category(c).startswith("L") for c in s)
)


_mrn_numbers = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(given_name=_name, family_name=_name)
def test_any_letters_round_trip(db, given_name, family_name):
    # one database for all examples (the fixture is not reset between them): a new MRN each time
    mrn = f"H{next(_mrn_numbers)}"
    svc.add_patient(db, mrn=mrn, given_name=given_name, family_name=family_name, birth_date=BIRTH_DATE, sex=None)
    stored = svc.get_patient(db, mrn)
    assert (stored.given_name, stored.family_name) == (given_name, family_name)
    for term in (family_name, family_name.casefold(), f"{given_name} {family_name}"):
        assert mrn in {p.mrn for p in svc.list_patients(db, search=term, limit=1000)}
