"""The card states what the issue requires."""

import pytest

from models.card import render_card


@pytest.fixture(scope="module")
def card(model):
    return render_card(model)


@pytest.mark.parametrize("text", [
    "discriminates fallers only modestly", "has not been validated prospectively", "## Intended use", "## Limits",
    "Conditional independence", "an assumption", "product choice, not published", "Youden point",
    "Monotone time effect", "recalibration-in-the-large", "MCAR", "Age has no term",
    "6.8 ± 3.4", "5.1 ± 1.3", "0.655", "59.5 %", "68.6 %", "0.74", "8.15", "9.31", "0.699", "4.2 s", "27.5 %", "39.6 %",
    "OR 2.8", "3.5", "OR 2.2", "OR 1.8", "OR 2.7", "2.62", "4.76", "28.9 %", "26.1 %", "10.31",
    "multiple_sclerosis", "stroke", "amputation", "Not included",
])
def test_card_mentions(card, text):
    assert text in card


def test_card_shows_metrics_and_thresholds(card, model):
    assert f"{model.metrics['overall']['ece']:.3f}" in card
    t = model.thresholds("nursing_home")
    assert f"{100 * t['low_below']:.1f} %" in card and f"{100 * t['high_at_or_above']:.1f} %" in card
