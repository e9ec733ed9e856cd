"""Table-driven tests of :func:`assessment.score`: mean, speed, bands, cut-offs, change.

Expected clinical numbers are typed in here from shared/clinical-evidence.md
(the row is named next to each), not read from assessment/data, so a wrong
table cell fails a test.
"""

from __future__ import annotations

import math

import pytest

from assessment import POPULATION_IDS, populations, score, validate_assessment

# source: clinical-evidence.md §4 (MDC95, seconds); community derived below.
PUBLISHED_MDC95 = {
    "parkinsons": 2.13,  # Kocer 2023
    "multiple_sclerosis": 1.69,  # Söke 2022
    "stroke": 1.57,  # J Stroke Cerebrovasc Dis 2021, as published
    "knee_arthroplasty": 2.94,  # Unver 2020
    "hip_arthroplasty": 4.33,  # Özden, Coşkun, Bakırhan
}
# MDC95 = 1.96 × √2 × SD × √(1 − ICC); SD 1.3 s (§3 Polo-Ferrero 2025 non-fallers),
# ICC 0.940 (§4 Özden 2021). By hand: 1.96 × 1.41421 × 1.3 × 0.244949 = 0.8827 s.
COMMUNITY_MDC95 = 1.96 * math.sqrt(2) * 1.3 * math.sqrt(1 - 0.940)
NO_MDC95 = ("nursing_home",)
# Amputation: SEM 0.38 s (§4, Şahan 2023, abstract); by hand 1.96 × 1.41421 × 0.38 = 1.0533 s.
AMPUTATION_MDC95 = 1.96 * math.sqrt(2) * 0.38

# source: clinical-evidence.md §2 — (seconds, side) of every published cut-off.
CUTOFFS = {
    "community": [(3.0, "≤"), (3.5, "≥"), (4.5, "≥"), (5.5, "≥")],  # Carter 2019; Polo-Ferrero 2025
    "nursing_home": [(8.15, "≥"), (9.31, "≥")],  # Kapan 2025
    "parkinsons": [(4.2, "≥"), (10.31, "≥")],  # Carter 2020; Kocer 2023
    "multiple_sclerosis": [(7.86, "≥")],  # Söke 2022 (abstract)
    "stroke": [],  # Kapan 2023: no difference by fall history
    "knee_arthroplasty": [],
    "hip_arthroplasty": [],
    "amputation": [(3.11, "≥")],  # Şahan 2023 (abstract); not a fall cut-off
    "dementia": [],  # Chan 2022: fallers not different
}


def scored(trials, population="community", previous=None, **extra):
    raw = {"population": population, "trials": trials, **extra}
    return score(validate_assessment(raw), previous_seconds=previous)


def invalid(seconds, reason="turned to look"):
    return {"seconds": seconds, "valid": False, "invalid_reason": reason}


# --- mean of the valid trials, speed ----------------------------------------

@pytest.mark.parametrize(
    "trials, mean, n_valid",
    [
        ([5.0], 5.0, 1),
        ([4.0, 6.0], 5.0, 2),
        ([4.0, 6.0, 8.0], 6.0, 3),
        ([4.0, invalid(60.0), 6.0], 5.0, 2),
        ([invalid(2.0), 7.5], 7.5, 1),
        ([3.33, 3.34], 3.335, 2),
        ([1.0, 120.0], 60.5, 2),
    ],
)
def test_mean_is_of_valid_timed_trials_only(trials, mean, n_valid):
    r = scored(trials)
    assert r.mean_seconds == pytest.approx(mean, abs=1e-9)
    assert r.valid_trials == n_valid
    assert f"{n_valid} of {len(trials)} timed trials valid" in r.scoring_rule
    assert r.scoring_rule.startswith("mean of the valid timed trials")


def test_no_valid_trial_gives_no_score():
    r = scored([invalid(5.0), invalid(6.0)], previous=5.0)
    assert r.valid_trials == 0
    assert (r.mean_seconds, r.speed_m_per_s, r.band, r.z, r.percentile, r.change) == (None,) * 6
    assert r.cutoffs and not any(c.met for c in r.cutoffs)


@pytest.mark.parametrize("seconds", [1.0, 2.5, 3.0, 4.5, 6.0, 12.5, 30.0, 120.0])
def test_speed_is_3_m_over_the_mean_time(seconds):
    # source: clinical-evidence.md §1, Carter 2019 (3 m course)
    assert scored([seconds, seconds]).speed_m_per_s == pytest.approx(3.0 / seconds, abs=1e-4)


# --- bands at the exact cut-offs ----------------------------------------------

@pytest.mark.parametrize(
    "population, seconds, band",
    [
        # community: ≤ 3.0 low, 3.0 < t < 4.5 intermediate, ≥ 4.5 high (§2, Carter 2019)
        ("community", 1.0, "low"),
        ("community", 2.99, "low"),
        ("community", 3.0, "low"),
        ("community", 3.0001, "intermediate"),
        ("community", 3.01, "intermediate"),
        ("community", 4.49, "intermediate"),
        ("community", 4.4999, "intermediate"),
        ("community", 4.5, "high"),
        ("community", 4.51, "high"),
        ("community", 120.0, "high"),
        # nursing home: ≥ 8.15 s (§2, Kapan 2025, falls in the next 4 months)
        ("nursing_home", 8.14, "low"),
        ("nursing_home", 8.1499, "low"),
        ("nursing_home", 8.15, "high"),
        ("nursing_home", 9.31, "high"),
        # Parkinson's: 4.2 s (§2, Carter 2020)
        ("parkinsons", 4.19, "low"),
        ("parkinsons", 4.1999, "low"),
        ("parkinsons", 4.2, "high"),
        ("parkinsons", 10.31, "high"),
    ],
)
def test_band_at_the_cutoff_boundaries(population, seconds, band):
    r = scored([seconds, seconds], population)
    assert r.band == band
    assert r.band_label


@pytest.mark.parametrize("population", ["stroke", "knee_arthroplasty", "hip_arthroplasty", "amputation", "dementia"])
@pytest.mark.parametrize("seconds", [1.0, 3.0, 4.2, 8.15, 30.0])
def test_populations_without_published_bands_have_band_none(population, seconds):
    r = scored([seconds], population)
    assert r.band is None
    assert r.band_label == "No published fall cut-off for this population"


def test_mean_on_a_band_edge_from_two_trials():
    # 2.9 and 3.1 average to the 3.0 s edge: low (≤ 3.0), not intermediate.
    assert scored([2.9, 3.1]).band == "low"
    assert scored([4.4, 4.6]).band == "high"


# --- every cut-off and its `met` ---------------------------------------------

@pytest.mark.parametrize("population", POPULATION_IDS)
def test_every_published_cutoff_is_reported(population):
    r = scored([5.0], population)
    assert [(c.seconds, c.side) for c in r.cutoffs] == CUTOFFS[population]
    assert all(c.source for c in r.cutoffs)


CUTOFF_CASES = [
    (pid, cut, side, delta)
    for pid, cuts in CUTOFFS.items()
    for cut, side in cuts
    for delta in (-0.01, 0.0, 0.01)
]


@pytest.mark.parametrize("population, cut, side, delta", CUTOFF_CASES)
def test_cutoff_met_at_below_and_above_the_cutoff(population, cut, side, delta):
    seconds = round(cut + delta, 2)
    r = scored([seconds], population)
    (result,) = [c for c in r.cutoffs if c.seconds == cut]
    expected = seconds <= cut if side == "≤" else seconds >= cut
    assert result.met is expected


@pytest.mark.parametrize(
    "population, seconds, sens, spec, auc, verified",
    [
        ("community", 5.5, 0.595, 0.686, 0.655, True),  # §2 Polo-Ferrero 2025
        ("community", 3.5, 0.98, None, None, True),  # §2 Polo-Ferrero 2025
        ("community", 3.0, None, None, None, True),  # §2 Carter 2019: unverified sens/spec not shown
        ("nursing_home", 8.15, None, None, 0.74, True),  # §2 Kapan 2025 (future falls)
        ("nursing_home", 9.31, None, None, 0.75, True),  # §2 Kapan 2025 (past falls)
        ("parkinsons", 4.2, None, None, 0.699, True),  # §2 Carter 2020
        ("amputation", 3.11, None, None, None, True),  # §2 Şahan 2023 (abstract)
        ("multiple_sclerosis", 7.86, None, None, None, True),  # §2 Söke 2022 (abstract): no accuracy published
    ],
)
def test_cutoff_accuracy_figures_match_the_evidence(population, seconds, sens, spec, auc, verified):
    (c,) = [c for c in scored([5.0], population).cutoffs if c.seconds == seconds]
    assert (c.sensitivity, c.specificity, c.auc, c.verified) == (sens, spec, auc, verified)


# --- MDC95 per population -----------------------------------------------------

def test_community_mdc95_is_derived_from_sd_and_icc():
    pop = populations()["community"]
    assert pop.mdc95_kind == "derived"
    assert pop.mdc95_seconds == pytest.approx(COMMUNITY_MDC95, rel=1e-12)
    assert pop.mdc95_seconds == pytest.approx(0.8827, abs=5e-5)  # by hand, see above
    assert "derived" in pop.mdc95_note


@pytest.mark.parametrize("population, mdc", sorted(PUBLISHED_MDC95.items()))
def test_published_mdc95(population, mdc):
    pop = populations()[population]
    assert (pop.mdc95_seconds, pop.mdc95_kind) == (mdc, "published")
    assert pop.mdc95_source.startswith("clinical-evidence.md §4")


@pytest.mark.parametrize("population", NO_MDC95)
def test_populations_without_mdc95(population):
    pop = populations()[population]
    assert (pop.mdc95_seconds, pop.mdc95_kind) == (None, None)


# --- change against the MDC95 --------------------------------------------------

CHANGE_CASES = []
for _pid, _mdc in PUBLISHED_MDC95.items():
    for _sign, _name in ((1, "worse"), (-1, "improved")):
        CHANGE_CASES += [
            (_pid, _sign * _mdc, _name),  # exactly at ±MDC95: a real change
            (_pid, _sign * round(_mdc + 0.01, 2), _name),
            (_pid, _sign * round(_mdc - 0.01, 2), "no_real_change"),
        ]
    CHANGE_CASES.append((_pid, 0.0, "no_real_change"))
CHANGE_CASES += [
    ("community", 0.89, "worse"),
    ("community", 0.88, "no_real_change"),
    ("community", 0.0, "no_real_change"),
    ("community", -0.88, "no_real_change"),
    ("community", -0.89, "improved"),
]


@pytest.mark.parametrize("population, delta, expected", CHANGE_CASES)
def test_change_is_classified_at_the_mdc95_boundaries(population, delta, expected):
    previous = 10.0
    current = round(previous + delta, 2)  # a time as typed, to 0.01 s
    r = scored([current, current], population, previous=previous)
    assert r.change.change == expected
    assert r.change.change_seconds == pytest.approx(delta, abs=1e-9)
    assert r.change.previous_seconds == previous
    mdc = COMMUNITY_MDC95 if population == "community" else PUBLISHED_MDC95[population]
    assert r.change.mdc95 == pytest.approx(mdc, abs=5e-4)


@pytest.mark.parametrize("population", NO_MDC95)
@pytest.mark.parametrize("delta", [-5.0, 0.0, 5.0])
def test_change_is_none_without_a_published_mdc95(population, delta):
    r = scored([10.0 + delta], population, previous=10.0)
    assert r.change.change is None
    assert r.change.mdc95 is None
    assert r.change.change_seconds == pytest.approx(delta)
    assert "No published MDC95" in r.change.note


@pytest.mark.parametrize("seconds, band", [(7.85, "low"), (7.86, "high"), (12.0, "high")])
def test_multiple_sclerosis_faller_cutoff_is_a_band_said_to_come_from_an_abstract(seconds, band):
    r = scored([seconds], "multiple_sclerosis")
    assert r.band == band and "abstract" in r.band_label
    (c,) = r.cutoffs
    assert "(abstract)" in c.source and c.auc is None and c.sensitivity is None


def test_amputation_mdc95_is_derived_from_the_published_sem():
    pop = populations()["amputation"]
    assert pop.mdc95_kind == "derived"
    assert pop.mdc95_seconds == pytest.approx(AMPUTATION_MDC95, rel=1e-12)
    assert pop.mdc95_seconds == pytest.approx(1.0533, abs=5e-5)
    assert "abstract" in pop.mdc95_note and "0.53" in pop.mdc95_note
    assert scored([11.06], "amputation", previous=10.0).change.change == "worse"
    assert scored([11.05], "amputation", previous=10.0).change.change == "no_real_change"


# Dementia: MDC 0.10 m/s (§4, Chan 2022, abstract). From 10 s (0.30 m/s): 0.20 m/s is 15 s, 0.40 m/s is 7.5 s.
@pytest.mark.parametrize("current, expected, mdc", [
    (15.0, "worse", 5.0), (14.99, "no_real_change", 0.1 * 10 * 14.99 / 3),
    (7.5, "improved", 2.5), (7.51, "no_real_change", 0.1 * 10 * 7.51 / 3), (10.0, "no_real_change", 1.0 / 0.3),
])
def test_dementia_speed_based_mdc_at_the_patients_own_speed(current, expected, mdc):
    r = scored([current], "dementia", previous=10.0)
    assert r.change.change == expected and r.change.mdc95_kind == "speed-based"
    assert r.change.mdc95 == pytest.approx(mdc, abs=5e-4)
    assert "0.1 m/s" in r.change.note and "abstract" in r.change.note


@pytest.mark.parametrize("age, has_percentile", [(59, False), (60, True), (95, True), (None, True)])
def test_no_percentile_outside_the_populations_ages(age, has_percentile):
    r = scored([5.0], "community", **({"age": age} if age is not None else {}))
    assert (r.percentile is not None) is has_percentile
    assert any("outside" in f for f in r.flags) is (not has_percentile)


def test_no_previous_time_means_no_change():
    r = scored([5.0])
    assert r.change is None
    assert "change" not in r.to_dict()


def test_previous_seconds_comes_from_the_assessment_unless_given():
    a = validate_assessment({"trials": [5.0], "previous_seconds": 6.0})
    assert score(a).change.previous_seconds == 6.0
    assert score(a).change.change == "improved"
    assert score(a, previous_seconds=5.5).change.previous_seconds == 5.5
    assert score(a, previous_seconds=5.5).change.change == "no_real_change"


# --- reference cohort, z and percentile -----------------------------------------

def test_community_is_compared_with_polo_ferrero_non_fallers():
    r = scored([5.1])
    assert r.reference_cohort == "polo_ferrero_2025_nonfallers"
    assert "Polo-Ferrero 2025" in r.reference_cohort_label
    # At the cohort mean a right-skewed log-normal puts z at σ/2 > 0 (σ² = ln(1 + (1.3/5.1)²)).
    sigma = math.sqrt(math.log(1 + (1.3 / 5.1) ** 2))
    assert r.z == pytest.approx(sigma / 2, abs=1e-4)
    assert 50 < r.percentile < 60


@pytest.mark.parametrize("population", [p for p in POPULATION_IDS if p != "community"])
def test_populations_without_a_reference_cohort_have_no_percentile(population):
    r = scored([5.0], population)
    assert (r.reference_cohort, r.z, r.percentile) == (None, None, None)


def test_percentile_and_z_never_fall_as_the_walk_gets_slower():
    times = [1.0, 1.5, 2.0, 2.6, 3.0, 3.5, 4.0, 4.5, 5.1, 5.5, 6.8, 8.0, 10.0, 15.0, 30.0, 60.0, 120.0]
    results = [scored([t]) for t in times]
    zs = [r.z for r in results]
    pcts = [r.percentile for r in results]
    assert zs == sorted(zs) and len(set(zs)) == len(zs)
    assert pcts == sorted(pcts)
    assert all(0.0 <= p <= 100.0 for p in pcts)


# --- flags and stop reason ---------------------------------------------------------

@pytest.mark.parametrize(
    "extra, trials, fragment",
    [
        ({}, [31.0, 5.0], "longer than 30 s"),
        ({"assistive_device": "cane"}, [5.0, 5.0], "assistive device"),
        ({"assistive_device": "walker"}, [5.0, 5.0], "assistive device"),
        ({"practice_walk_done": "no"}, [5.0, 5.0], "No practice walk"),
        ({}, [{"seconds": 5.0, "loss_of_balance": True}, 5.0], "Loss of balance"),
        ({}, [5.0], "single valid timed trial"),
        ({}, [5.0, invalid(6.0)], "single valid timed trial"),
    ],
)
def test_flags(extra, trials, fragment):
    assert any(fragment in f for f in scored(trials, **extra).flags)


def test_a_clean_two_trial_test_has_no_flags():
    assert scored([5.0, 5.2]).flags == ()
    assert scored([30.0, 30.0]).flags == ()  # 30 s itself is not flagged


@pytest.mark.parametrize("reason", ["cannot_continue_safely", "needs_hands_on_help", "pain", "dizziness"])
def test_stop_reason_is_reported(reason):
    r = scored([], stop_reason=reason)
    assert r.stop_reason == reason
    assert r.mean_seconds is None and r.valid_trials == 0


def test_to_dict_carries_the_change_fields():
    d = scored([5.0], previous=6.0).to_dict()
    assert d["change"] == "improved"
    assert d["mdc95_kind"] == "derived"
    assert d["mean_seconds"] == 5.0
    assert isinstance(d["cutoffs"], list) and d["cutoffs"][0]["side"] == "≤"
