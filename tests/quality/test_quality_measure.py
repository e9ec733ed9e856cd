"""CMS139 falls screening and the MIPS #155 plan of care on the hand-made cohort (numbers worked out in conftest)."""

from __future__ import annotations

from datetime import date

import pytest

from assessment import InputError
from records import accounts
from records import services as svc
from records.quality import Visit, falls_screening, read_visits, validate_measure, validate_period

PERIOD = {"period_from": "2025-01-01", "period_to": "2025-12-31"}


def test_one_clinic_with_the_visit_list(cohort, visits_file):
    report = falls_screening(cohort, **PERIOD, visits=read_visits(visits_file), clinic="North", actor="alice")
    assert report.to_json() == {
        "measure": "cms139", "from": "2025-01-01", "to": "2025-12-31", "clinic": "North",
        "denominator": 5, "numerator": 3, "rate": 0.6, "not_screened": ["D", "C"],
        "plan_of_care": {"measure": "mips155", "denominator": 2, "numerator": 1, "rate": 0.5, "not_documented": ["F"]},
        "unknown_visit_mrns": ["H", "ZZZ"],
    }
    # not screened in name order: "<b>Diaz</b>, Dora" sorts before "Li, Chen"; C's last visit is from the list
    (d, c) = report.not_screened
    assert (d.mrn, d.age, d.last_visit) == ("D", 70, date(2025, 4, 1))
    assert (c.mrn, c.name, c.age, c.last_visit) == ("C", "Li, Chen", 74, date(2025, 6, 1))


def test_every_clinic_adds_the_other_clinics_patients(cohort, visits_file):
    report = falls_screening(cohort, **PERIOD, visits=read_visits(visits_file), actor="system")
    assert (report.denominator, report.numerator, report.plan_denominator, report.plan_numerator) == (6, 4, 3, 2)
    assert report.rate == pytest.approx(4 / 6) and report.unknown_visit_mrns == ("ZZZ",)


def test_without_the_visit_list_only_assessments_are_visits(cohort):
    report = falls_screening(cohort, **PERIOD, clinic="North", actor="alice")
    assert (report.denominator, report.numerator) == (4, 3)  # C had only a listed visit
    assert [u.mrn for u in report.not_screened] == ["D"]


@pytest.mark.parametrize("start, denominator, numerator, not_screened", [
    ("2025-01-01", 2, 1, ["G"]),  # A (born 1960-01-01) is 65 that day; B (born 1960-01-02) is 64
    ("2025-01-02", 3, 2, ["G"]),  # B turns 65 that day: both count
    ("2024-12-31", 2, 1, ["G"]),  # A and B are 64; E's completed test on 2024-12-31 counts instead
])
def test_the_age_boundary_is_65_on_the_first_day(cohort, start, denominator, numerator, not_screened):
    report = falls_screening(cohort, period_from=start, period_to="2025-03-01", clinic="North", actor="alice")
    assert (report.denominator, report.numerator) == (denominator, numerator)
    assert [u.mrn for u in report.not_screened] == not_screened  # G's visit was a stopped test


def test_a_period_holding_only_a_stopped_test_screens_nobody(cohort):
    report = falls_screening(cohort, period_from="2025-04-01", period_to="2025-04-01", clinic="North", actor="alice")
    assert (report.denominator, report.numerator, report.rate) == (1, 0, 0.0)
    assert report.plan_rate is None and report.to_json()["plan_of_care"]["rate"] is None


def test_an_empty_period_has_no_rate(cohort):
    report = falls_screening(cohort, period_from="1995-01-01", period_to="1995-12-31", actor="alice")
    assert (report.denominator, report.rate) == (0, None)


def test_each_caller_gets_the_numbers_of_their_own_clinic_scope(cohort, visits_file):
    accounts.add_user(cohort, username="root", password="correct horse battery", role="admin", actor="system")
    accounts.add_user(cohort, username="nina", password="correct horse battery", clinic="North", actor="root")
    accounts.add_user(cohort, username="sam", password="correct horse battery", clinic="South", actor="root")
    visits = read_visits(visits_file)
    numbers = {}
    for user in ("nina", "sam", "root"):
        report = falls_screening(cohort, **PERIOD, visits=visits, clinic=svc.clinic_scope(cohort, user), actor=user)
        numbers[user] = (report.denominator, report.numerator, [u.mrn for u in report.not_screened],
                         report.unknown_visit_mrns)
    assert numbers == {
        "nina": (5, 3, ["D", "C"], ("H", "ZZZ")),
        "sam": (1, 1, [], ("C", "E", "ZZZ")),
        "root": (6, 4, ["D", "C"], ("ZZZ",)),
    }


def test_the_report_is_audited_with_counts_only(cohort):
    falls_screening(cohort, **PERIOD, clinic="North", actor="alice")
    (row,) = svc.list_audit(cohort, action="quality.report")
    assert row.detail == {"measure": "cms139", "from": "2025-01-01", "to": "2025-12-31", "clinic": True,
                          "denominator": 4, "numerator": 3, "visits": 0}


@pytest.mark.parametrize("start, end, field", [
    ("2025-13-01", "2025-12-31", "from"), ("2025-01-01", "soon", "to"), ("2025-02-01", "2025-01-31", "to"),
    ("1989-12-31", "2025-01-01", "from"),
])
def test_a_bad_period_names_the_field(start, end, field):
    with pytest.raises(InputError) as caught:
        validate_period(start, end)
    assert caught.value.field == field


def test_an_unknown_measure_is_refused():
    assert validate_measure(" CMS139 ") == "cms139"
    with pytest.raises(InputError) as caught:
        validate_measure("cms999")
    assert caught.value.field == "measure" and "cms139" in caught.value.message


@pytest.mark.parametrize("text, field", [
    ("mrn,when\nA,2025-01-01\n", "visits"),
    ("mrn,date\nA,2025-01-01\nB,2025-02-30\n", "visits line 3: date"),
    ("mrn,date\n,2025-01-01\n", "visits line 2: mrn"),
    ("mrn,date\nA B,2025-01-01\n", "visits line 2: mrn"),
])
def test_a_bad_visit_list_names_the_line_and_column(tmp_path, text, field):
    path = tmp_path / "v.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_visits(path)
    assert caught.value.field == field


def test_a_visit_list_with_a_byte_order_mark_and_capitalised_header_reads(tmp_path):
    assert read_visits(data="\ufeffMRN,Date\nA,2025-01-01\n".encode()) == [Visit("A", date(2025, 1, 1))]
    with pytest.raises(InputError) as caught:
        read_visits(tmp_path / "missing.csv")
    assert caught.value.field == "visits"
