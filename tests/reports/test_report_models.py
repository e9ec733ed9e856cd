"""The report models, read as data (before any PDF)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reports import Paragraph, Table, TrendChart
from reports.clinician import DISCLAIMER


def test_patient_model_has_every_section(sample):
    inputs, patient, _, _, _ = sample
    text = patient.text()
    for phrase in ("What we measured", "What it means", "Your walking program", "Stay safe",
                   "Stop straight away and call us", "Your next test: 21 April 2025",
                   "Your time: 4.0 seconds on average (2 walks)", "Riverside Falls Clinic"):
        assert phrase in text, phrase
    week_table = [t for t in patient.tables() if t.header[0] == "Week"][0]
    assert [r[0] for r in week_table.rows] == ["1", "2", "3–4", "5", "6"]  # identical weeks share a row
    assert week_table.rows[0][1] == "5 minutes, 3 times a week."
    assert patient.body_size >= 14


def test_patient_model_has_no_statistics_jargon(sample):
    text = sample[1].text().lower()
    for word in ("z-score", " z ", "percentile", "log-normal", "mdc", "auc", "cohort"):
        assert word not in text, word


@pytest.mark.parametrize(
    "kw",
    [
        {"risk_category": "high"},
        {"risk_category": "low", "red_flags": ("balance_disorder_or_vertigo",), "treadmill": True},
        {"risk_category": None, "population": "parkinsons", "trials": (5.0, 5.2), "previous_seconds": None},
        {"risk_category": "low", "stop_reason": "dizziness", "trials": (), "previous_seconds": None},
    ],
)
def test_supervised_patient_is_never_told_to_train_alone(kw, build_both):
    inputs, patient, clinician = build_both(**kw)
    assert inputs["program"].supervised
    text = patient.text()
    assert "Practise only with your physical therapist" in text
    assert "On your own;" not in text and "You can practise on your own" not in text
    assert any(isinstance(b, Paragraph) and b.style == "warning" and "on your own" in b.text for b in patient.blocks)
    assert "Supervised only | yes" in clinician.text()


def test_stopped_test_says_so_in_plain_words(build_both):
    _, patient, clinician = build_both(stop_reason="pain", trials=(), previous_seconds=None, risk_category=None)
    assert "We stopped the walk early to keep you safe" in patient.text()
    assert "Your time:" not in patient.text()
    assert "Stop rule applied | Patient reports pain" in clinician.text()
    assert "No timed trial recorded." in clinician.text()


def test_clinician_model_has_every_required_item(sample):
    inputs, _, clinician, _, _ = sample
    text = clinician.text()
    score = inputs["assessment"]["score"]
    required = [
        "Zoë Øster-Ñúñez · born 1946-07-02 · MRN 000123",  # running header
        "1 | 4.10 s | stopwatch | valid", "2 | 3.90 s | stopwatch | valid",
        "Protocol and start convention | 3MBW, standing start", "Population | Community older adults",
        "Tester | Dr. Jana Novák, PT", "Clinic | Riverside Falls Clinic", "Practice walk | done",
        "Balance disorder or vertigo? | no", "Uses a walking aid? | no", "Prior falls (as reported) | 1",
        "Walking aid | no", "Horizon | the next 12 months",
        "Inputs used | 3MBW mean time, prior falls (1), walking aid (no), STEADI items, sex (female), age (78)",
        "Category thresholds | moderate from 25.0 %; high from 45.0 %", "Why this program",
        f"Reference cohort | {score['reference_cohort_label']}",
        f"Percentile | {score['percentile']:.1f}", f"z (log-normal) | {score['z']:.2f}",
        f"Cut-off band | {score['band_label']}", "≥ 4.5 s | high fall risk at or above",
        "≥ 5.5 s | faller cut-off",
        "Probability | 31 % (interval 23 % to 40 %) of a fall in the next 12 months",
        "Risk category | moderate", "Model version | example-0.0",
        "Timed Up and Go (s) | 12.5 | yes", "Previous mean time | 4.60 s",
        f"Change from the previous | -0.60 s (within the MDC95 of {score['mdc95']:.2f} s)",
        "Change from the first | ",
        f"MDC95 | {score['mdc95']:.2f} s (derived)", "no real change (within MDC95)",
        "Tier | Supported at home", "Model fall-risk category is moderate",
        "Clinician: Dr. Jana Novák, PT", DISCLAIMER,
    ]
    for phrase in required:
        assert phrase in text, phrase
    chart = [b for b in clinician.blocks if isinstance(b, TrendChart)][0]
    assert len(chart.points) == 10 and sum(p.current for p in chart.points) == 1
    assert {c for c, _ in chart.cutoffs} == {3.0, 3.5, 4.5, 5.5}
    assert sum(p.amended for p in chart.points) == 2
    assert chart.band == pytest.approx((4.6 - score["mdc95"], 4.6 + score["mdc95"]))
    assert "_" not in text.split("\n", 3)[-1].replace("file_stem", "")  # no raw field names anywhere


def test_model_thresholds_print_as_words_not_field_names(build_both):
    inputs, _, _ = build_both()
    from reports import build_clinician_report

    risk = {**inputs["risk"], "thresholds": {"low_below": 0.1594, "high_at_or_above": 0.3512}}
    text = build_clinician_report(**{**inputs, "risk": risk}).text()
    assert "Category thresholds | low below 15.9 %; high at or above 35.1 %" in text
    assert "low_below" not in text and "0.1594" not in text


def test_reprint_for_an_earlier_date_shows_no_later_assessment(build_both):
    inputs, _, _ = build_both()
    from datetime import date

    from reports import build_clinician_report

    later = [{"assessed_on": date(2025, 6, 1), "mean_seconds": 3.0, "version": 1, "amended": False}]
    model = build_clinician_report(**{**inputs, "history": inputs["history"] + later})
    chart = [b for b in model.blocks if isinstance(b, TrendChart)][0]
    assert max(p.assessed_on for p in chart.points) == "2025-03-10" and len(chart.points) == 10
    assert "2025-06-01" not in model.text()


def test_trend_adds_the_current_assessment_when_history_lacks_it(build_both):
    inputs, _, _ = build_both(history_points=0)
    from reports import build_clinician_report

    model = build_clinician_report(**{**inputs, "history": []})
    chart = [b for b in model.blocks if isinstance(b, TrendChart)][0]
    assert [(p.assessed_on, p.seconds, p.current) for p in chart.points] == [("2025-03-10", 4.0, True)]


def test_no_model_probability_is_said_and_band_used(build_both):
    _, _, clinician = build_both(risk_category=None)
    assert "No model probability" in clinician.text()
    assert "of a fall in the next 12 months" not in clinician.text()


def test_population_without_cutoffs_says_so(build_both):
    _, patient, clinician = build_both(population="stroke", risk_category=None, previous_seconds=None)
    assert "No published fall cut-off for this population." in clinician.text()
    assert "no published guide for th" in patient.text()


def test_clinician_tables_are_rectangular(sample):
    for table in sample[2].tables():
        assert isinstance(table, Table)
        assert all(len(row) == len(table.header) for row in table.rows), table.header
        if table.widths:
            assert len(table.widths) == len(table.header) and abs(sum(table.widths) - 1) < 1e-9


def test_building_a_model_does_not_load_reportlab():
    code = (
        "import sys; from reports import build_patient_report; from reports.samples import example_inputs;"
        "build_patient_report(**example_inputs()); assert 'reportlab' not in sys.modules, 'reportlab loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_change_from_the_first_is_judged_against_the_populations_mdc95_without_a_previous_time(build_both):
    from assessment import get_population

    _, _, clinician = build_both(trials=(5.6, 5.8), previous_seconds=None)
    mdc = round(get_population("community").mdc95_seconds, 2)  # derived (Özden ICC, Polo-Ferrero SD)
    text = clinician.text()
    assert f"MDC95 | {mdc:.2f} s (derived)" in text
    assert f"+0.58 s (within the MDC95 of {mdc:.2f} s)" in text  # 5.70 s against the first, 5.12 s
