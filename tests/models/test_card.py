"""The card states what the issue requires."""

import pytest

from models.card import render_card, source_rows


@pytest.fixture(scope="module")
def card(model):
    return render_card(model)


@pytest.mark.parametrize("text", [
    "discriminates fallers only modestly", "has not been validated prospectively", "## Intended use", "## Limits",
    "Conditional independence", "an assumption", "product choice, not published", "Youden point",
    "Monotone time effect", "recalibration-in-the-large", "MCAR", "Age has no term",
    "6.8 ± 3.4", "5.1 ± 1.3", "0.655", "59.5 %", "68.6 %", "0.74", "8.15", "9.31", "0.699", "4.2 s", "27.5 %", "39.6 %",
    "OR 2.8", "3.5", "OR 2.2", "OR 1.8", "OR 2.7", "2.62", "4.76", "28.9 %", "26.1 %", "10.31",
    "multiple_sclerosis", "stroke", "amputation", "dementia", "7.86", "Still not included",
    # the points
    "next 12 months", "*prior* 12 months", "Scenario A", "Scenario B", "Model averaging", "Structural term",
    "Why 27.5 % and not 20.9 %", "no CI in the evidence file", "**assumed**", "not a validation",
    "simulated from the model's own assumptions", "(abstract)", "no probability",
])
def test_card_mentions(card, text):
    assert text in card


def test_card_shows_metrics_and_thresholds(card, model):
    assert f"{model.metrics['overall']['ece']:.3f}" in card
    t = model.thresholds("nursing_home")
    assert f"{100 * t['low_below']:.1f} %" in card and f"{100 * t['high_at_or_above']:.1f} %" in card


def test_card_has_the_scenario_table(card, model):
    for scenario in ("A", "B", "mix"):
        m = model.metrics["scenarios"][scenario]["by_population"]["community"]
        row = f"| {scenario} | community | {m['n']} | {m['ece']:.3f} | {m['calibration_slope']:.3f} |"
        assert row in card


def test_source_rows_name_a_section_and_a_use():
    rows = source_rows()
    assert len(rows) >= 20
    for r in rows:
        assert r["source"].startswith("§") and r["used_for"] and r["value"]
    assert any("(abstract)" in r["source"] for r in rows)
