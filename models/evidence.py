"""The evidence cohort: a reproducible simulated cohort built only from
``shared/clinical-evidence.md``.

Two structural scenarios (every assumption is also listed in the card).
Polo-Ferrero's faller groups are people who fell in the *prior* 12 months
(clinical-evidence.md §2, note on how the faller groups were defined), so
how the time relates to fall history is unknown between two ends:

Scenario A (conditional independence given the future fall ``F``):

1. ``F`` ~ Bernoulli(pre-test rate of the population);
2. ``ln(3MBW seconds) | F`` ~ Normal(μ_F, σ_F) (log-normal times);
3. prior fall ``H | F`` ~ Bernoulli with Deandrea's OR 2.8.

Scenario B (the time tracks fall history; future falls follow history):

1. ``H`` ~ Bernoulli(prior-fall prevalence);
2. ``ln(3MBW seconds) | H`` ~ Normal(μ_H, σ_H) (the published faller
   groups *are* prior fallers);
3. ``F | H`` ~ Bernoulli with Deandrea's OR 2.8 and the pre-test rate
   overall, so the time says nothing about ``F`` once ``H`` is known.

In both, each other predictor ``X | F`` ~ Bernoulli(p_F), independent of the
rest given ``F``, with ``p_0``, ``p_1`` solved so that ``odds(p_1)/odds(p_0)``
equals the published OR and the overall prevalence equals the stated
value; then each predictor except the time is hidden completely at random
(MCAR) with probability :data:`MASK_RATE`, which teaches the model an
explicit "unknown" level that averages over the hidden value. Scenario B
applies only to populations whose faller groups were not defined
prospectively (community: prior 12 months; Parkinson's: not stated); the
nursing-home time link is Kapan's prospective one (future falls), so there
B is the same as A. The "mix" cohort draws each patient from A or B with
probability :data:`MIX_WEIGHT`: fitting on it estimates the Bayesian model
average of the two scenarios with equal prior weight.

Time distributions
------------------
* community: log-normal fits (method of moments,
  :func:`assessment.scoring.lognormal_params`) of Polo-Ferrero 2025's
  fallers 6.8 ± 3.4 s and non-fallers 5.1 ± 1.3 s;
* nursing_home and parkinsons: only an AUC and a cut-off are published.
  Binormal on the log scale with equal variance σ (borrowed from the
  community cohort: the pooled within-group log-SD of Polo-Ferrero's two
  groups, weighted by n − 1), separation ``d = √2 · Φ⁻¹(AUC)``, and the
  published cut-off taken as the Youden point, which for equal variances is
  the midpoint: ``ln(cut) = (μ_0 + μ_1) / 2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit, logit, ndtri

from assessment import populations
from assessment.scoring import lognormal_params

#: Populations the model gives a probability for, in design order.
MODEL_POPULATIONS: tuple[str, ...] = ("community", "nursing_home", "parkinsons")

# ---------------------------------------------------------------- time data
#: source: clinical-evidence.md §2, Polo-Ferrero et al. 2025 (fallers vs non-fallers, s).
POLO_FALLERS_MEAN, POLO_FALLERS_SD, POLO_FALLERS_N = 6.8, 3.4, 101
POLO_NONFALLERS_MEAN, POLO_NONFALLERS_SD, POLO_NONFALLERS_N = 5.1, 1.3, 382
#: source: clinical-evidence.md §2, Polo-Ferrero 2025: cut-off 5.5 s, sens 59.5 %, spec 68.6 %, AUC 0.655.
POLO_CUTOFF_SECONDS, POLO_SENSITIVITY, POLO_SPECIFICITY, POLO_AUC = 5.5, 0.595, 0.686, 0.655
#: source: clinical-evidence.md §2, Kapan et al. 2025: AUC 0.74 and cut-off 8.15 s for falls in the next 4 months; n = 217.
KAPAN_FUTURE_AUC, KAPAN_FUTURE_CUTOFF_SECONDS, KAPAN_N = 0.74, 8.15, 217
#: source: clinical-evidence.md §2, Kapan et al. 2025: AUC 0.75, cut-off 9.31 s for past falls (not used to fit; shown in the card).
KAPAN_PAST_AUC, KAPAN_PAST_CUTOFF_SECONDS = 0.75, 9.31
#: source: clinical-evidence.md §2, Carter 2020 (Top Geriatr Rehabil): Parkinson's AUC 0.699, cut-off 4.2 s, n = 175.
CARTER_PD_AUC, CARTER_PD_CUTOFF_SECONDS, CARTER_PD_N = 0.699, 4.2, 175

# --------------------------------------------------------------- odds ratios
#: source: clinical-evidence.md §5, Deandrea et al. 2010: history of falls, OR 2.8 for any fall.
OR_PRIOR_FALL = 2.8
#: source: clinical-evidence.md §5, Deandrea 2010: OR 3.5 is for *recurrent* falls (not the model's outcome; unused).
OR_PRIOR_FALL_RECURRENT = 3.5
#: source: clinical-evidence.md §5, Deandrea 2010: walking aid, OR 2.2 for any fall.
OR_WALKING_AID = 2.2
#: source: clinical-evidence.md §5, Deandrea 2010: vertigo OR 1.8 (not a model predictor; unused).
OR_VERTIGO = 1.8
#: source: clinical-evidence.md §5, Deandrea 2010: Parkinson's disease OR 2.7 for any fall.
OR_PARKINSONS = 2.7
#: source: clinical-evidence.md §5, NHATS cohort n = 7,392 (PMC5729578): STEADI moderate vs low OR 2.62 (2.29–2.99).
OR_STEADI_MODERATE, OR_STEADI_MODERATE_CI = 2.62, (2.29, 2.99)
#: source: clinical-evidence.md §5, NHATS (PMC5729578): STEADI high vs low OR 4.76 (3.51–6.47) (not used: see card).
OR_STEADI_HIGH, OR_STEADI_HIGH_CI = 4.76, (3.51, 6.47)
#: source: clinical-evidence.md §5, Kakara et al. MMWR 2023: fell in 2020, women 28.9 %, men 26.1 %, all 27.6 %.
KAKARA_WOMEN, KAKARA_MEN, KAKARA_ALL = 0.289, 0.261, 0.276

# ----------------------------------------------------- stated assumptions
#: ASSUMPTION (no prevalence in clinical-evidence.md): share using a walking aid, every population.
ASSUMED_WALKING_AID_PREVALENCE = 0.25
#: ASSUMPTION (no prevalence in clinical-evidence.md): share at STEADI moderate-or-higher level, every population.
ASSUMED_STEADI_AT_RISK_PREVALENCE = 0.25
#: Simulation device, not a clinical number: probability that each optional predictor is hidden (MCAR).
MASK_RATE = 0.3
#: Simulation device: cohort size per population for the fitted model (large, so the fit is not noisy).
TRAIN_N_PER_POPULATION = 60_000
#: Structural scenarios (module docstring) and the cohort that mixes them.
SCENARIOS: tuple[str, ...] = ("A", "B", "mix")
#: Product choice (no evidence favours either end): prior weight of scenario A in the mix.
MIX_WEIGHT = 0.5
#: ASSUMPTION (no CI in clinical-evidence.md for Deandrea 2010 or Kakara 2023): standard error of
#: ln OR for prior falls, walking aid and the sex effect. Taken as the widest relative CI of any OR in
#: clinical-evidence.md §5, NHATS STEADI high vs low 3.51–6.47: (ln 6.47 − ln 3.51) / (2 × 1.96).
ASSUMED_LOG_OR_SE = (math.log(6.47) - math.log(3.51)) / (2 * 1.959963984540054)


@dataclass(frozen=True)
class TimeModel:
    """ln(seconds) ~ Normal(mu, sigma) for non-fallers (index 0) and fallers (1)."""

    mu: tuple[float, float]
    sigma: tuple[float, float]
    derivation: str


@dataclass(frozen=True)
class PopulationEvidence:
    """Everything the generator needs for one population."""

    id: str
    pretest_rate: float
    pretest_source: str
    time: TimeModel
    study_n: int
    study_source: str
    prior_fall_prevalence: float
    sex_effect: bool
    history_defined: bool
    faller_definition: str


def binary_rates(odds_ratio: float, prevalence: float, rate: float) -> tuple[float, float]:
    """(p0, p1): P(X=1 | no fall), P(X=1 | fall) with the given OR and overall prevalence.

    Solves ``rate·p1 + (1 − rate)·p0 = prevalence`` with
    ``logit(p1) = logit(p0) + ln(OR)``. Under conditional independence the
    odds ratio of a fall for X = 1 vs X = 0 is then exactly ``odds_ratio``.
    """
    b = math.log(odds_ratio)

    def gap(l0: float) -> float:
        return rate * expit(l0 + b) + (1 - rate) * expit(l0) - prevalence

    l0 = brentq(gap, -30.0, 30.0, xtol=1e-13)
    return float(expit(l0)), float(expit(l0 + b))


def pooled_community_log_sd() -> float:
    """Pooled within-group log-SD of Polo-Ferrero's fallers and non-fallers (weights n − 1)."""
    _, s1 = lognormal_params(POLO_FALLERS_MEAN, POLO_FALLERS_SD)
    _, s0 = lognormal_params(POLO_NONFALLERS_MEAN, POLO_NONFALLERS_SD)
    num = (POLO_FALLERS_N - 1) * s1**2 + (POLO_NONFALLERS_N - 1) * s0**2
    return float(math.sqrt(num / (POLO_FALLERS_N + POLO_NONFALLERS_N - 2)))


def binormal_from_auc(auc: float, cutoff: float, sigma: float) -> tuple[float, float]:
    """(μ0, μ1) on the log scale for equal-variance binormal with this AUC and Youden cut-off."""
    d = math.sqrt(2.0) * float(ndtri(auc))
    mid = math.log(cutoff)
    return mid - d * sigma / 2.0, mid + d * sigma / 2.0


def parkinsons_pretest_rate() -> float:
    """Community pre-test odds × Deandrea's Parkinson's OR (an assumption, see card)."""
    r = populations()["community"].pretest_fall_rate
    return float(expit(logit(r) + math.log(OR_PARKINSONS)))


def women_share() -> float:
    """Share of women implied by Kakara 2023's rates: all = w·women + (1 − w)·men."""
    return (KAKARA_ALL - KAKARA_MEN) / (KAKARA_WOMEN - KAKARA_MEN)


def sex_odds_ratio() -> float:
    """Odds ratio of a fall, women vs men (Kakara 2023)."""
    return (KAKARA_WOMEN / (1 - KAKARA_WOMEN)) / (KAKARA_MEN / (1 - KAKARA_MEN))


def population_evidence() -> dict[str, PopulationEvidence]:
    """Evidence for each modelled population."""
    pops = populations()
    m1, s1 = lognormal_params(POLO_FALLERS_MEAN, POLO_FALLERS_SD)
    m0, s0 = lognormal_params(POLO_NONFALLERS_MEAN, POLO_NONFALLERS_SD)
    community_time = TimeModel(
        (float(m0), float(m1)), (float(s0), float(s1)),
        "log-normal fits (method of moments) of Polo-Ferrero 2025: non-fallers 5.1 ± 1.3 s, fallers 6.8 ± 3.4 s",
    )
    sigma = pooled_community_log_sd()
    nh0, nh1 = binormal_from_auc(KAPAN_FUTURE_AUC, KAPAN_FUTURE_CUTOFF_SECONDS, sigma)
    pd0, pd1 = binormal_from_auc(CARTER_PD_AUC, CARTER_PD_CUTOFF_SECONDS, sigma)
    derivation = (
        "equal-variance binormal on ln(seconds): σ = {s:.4f} (pooled within-group log-SD of Polo-Ferrero 2025), "
        "d = √2·Φ⁻¹({auc}) , published cut-off {cut} s = Youden point = midpoint of the two log-means"
    )
    nh_rate = pops["nursing_home"].pretest_fall_rate
    pd_rate = parkinsons_pretest_rate()
    community_rate = pops["community"].pretest_fall_rate
    return {
        "community": PopulationEvidence(
            "community", community_rate, pops["community"].pretest_source, community_time,
            POLO_FALLERS_N + POLO_NONFALLERS_N, "Polo-Ferrero 2025 (n = 483)", community_rate, True,
            True, "fell in the prior 12 months (Polo-Ferrero 2025)",
        ),
        "nursing_home": PopulationEvidence(
            "nursing_home", nh_rate, pops["nursing_home"].pretest_source,
            TimeModel((nh0, nh1), (sigma, sigma), derivation.format(s=sigma, auc=KAPAN_FUTURE_AUC, cut=KAPAN_FUTURE_CUTOFF_SECONDS)),
            KAPAN_N, "Kapan 2025 (n = 217)", nh_rate, False,
            False, "fell in the next 4 months (Kapan 2025, prospective)",
        ),
        "parkinsons": PopulationEvidence(
            "parkinsons", pd_rate,
            "community pre-test odds (Moreland 2020, 27.5 %) × Parkinson's disease OR 2.7 (Deandrea 2010) — an assumption",
            TimeModel((pd0, pd1), (sigma, sigma), derivation.format(s=sigma, auc=CARTER_PD_AUC, cut=CARTER_PD_CUTOFF_SECONDS)),
            CARTER_PD_N, "Carter 2020 (n = 175)", pd_rate, False,
            True, "not stated in clinical-evidence.md (Carter 2020): treated as possibly fall history",
        ),
    }


#: Canonical feature columns (numeric codes), shared by the cohort, the
#: feature parser and the design matrix.
CANONICAL = ("population", "log_seconds", "sex", "prior_fall", "walking_aid", "steadi")
#: Codes: population = index in MODEL_POPULATIONS (−1 = not modelled);
#: sex 0 unknown / 1 female / 2 male; prior_fall, walking_aid, steadi: −1 unknown, 0 no/low, 1 yes/at risk.
UNKNOWN = -1


def simulate_population(ev: PopulationEvidence, code: int, n: int, rng: np.random.Generator, mask_rate: float,
                        scenario: str = "A") -> np.ndarray:
    """Simulate ``n`` patients of one population under ``scenario`` ("A", "B" or "mix").

    Returns columns CANONICAL + ``fell``. Under "mix" each patient is drawn
    from A with probability :data:`MIX_WEIGHT`, else from B.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario {scenario!r}; allowed: {', '.join(SCENARIOS)}")
    if scenario == "mix":
        from_b = rng.random(n) >= MIX_WEIGHT
    else:
        from_b = np.full(n, scenario == "B")
    from_b &= ev.history_defined

    def binary_given(state: np.ndarray, odds_ratio: float, prevalence: float, rate: float) -> np.ndarray:
        p0, p1 = binary_rates(odds_ratio, prevalence, rate)
        return (rng.random(n) < np.where(state == 1, p1, p0)).astype(float)

    # A: F first, then H | F.  B: H first, then F | H (same OR, same overall rates).
    fell_a = (rng.random(n) < ev.pretest_rate).astype(float)
    prior_a = binary_given(fell_a, OR_PRIOR_FALL, ev.prior_fall_prevalence, ev.pretest_rate)
    prior_b = (rng.random(n) < ev.prior_fall_prevalence).astype(float)
    fell_b = binary_given(prior_b, OR_PRIOR_FALL, ev.pretest_rate, ev.prior_fall_prevalence)
    fell = np.where(from_b, fell_b, fell_a)
    prior = np.where(from_b, prior_b, prior_a)
    group = np.where(from_b, prior, fell)  # who the published time distributions describe
    mu = np.where(group == 1, ev.time.mu[1], ev.time.mu[0])
    sd = np.where(group == 1, ev.time.sigma[1], ev.time.sigma[0])
    log_t = mu + sd * rng.standard_normal(n)
    aid = binary_given(fell, OR_WALKING_AID, ASSUMED_WALKING_AID_PREVALENCE, ev.pretest_rate)
    steadi = binary_given(fell, OR_STEADI_MODERATE, ASSUMED_STEADI_AT_RISK_PREVALENCE, ev.pretest_rate)
    if ev.sex_effect:
        female = binary_given(fell, sex_odds_ratio(), women_share(), ev.pretest_rate)
    else:
        female = (rng.random(n) < women_share()).astype(float)
    sex = np.where(female == 1, 1.0, 2.0)
    hide = rng.random((n, 4)) < mask_rate
    sex[hide[:, 0]] = 0
    prior[hide[:, 1]] = UNKNOWN
    aid[hide[:, 2]] = UNKNOWN
    steadi[hide[:, 3]] = UNKNOWN
    pop = np.full(n, float(code))
    return np.column_stack([pop, log_t, sex, prior, aid, steadi, fell])


def evidence_cohort(seed: int, n_per_population: int = TRAIN_N_PER_POPULATION, mask_rate: float = MASK_RATE,
                    populations_: tuple[str, ...] = MODEL_POPULATIONS, scenario: str = "mix") -> tuple[np.ndarray, np.ndarray]:
    """A reproducible evidence cohort.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same cohort.
    n_per_population : int
        Patients simulated per modelled population.
    mask_rate : float
        Probability that each optional predictor is hidden (MCAR).
    populations_ : tuple of str
        Which modelled populations to simulate.
    scenario : {"mix", "A", "B"}
        Structural scenario (module docstring); "mix" (the training cohort)
        draws each patient from A or B with probability :data:`MIX_WEIGHT`.

    Returns
    -------
    X : ndarray, shape (n, 6)
        Canonical features (:data:`CANONICAL`), rows shuffled.
    y : ndarray, shape (n,)
        1 = fell in the next 12 months.
    """
    rng = np.random.default_rng(seed)
    evid = population_evidence()
    blocks = [simulate_population(evid[p], MODEL_POPULATIONS.index(p), n_per_population, rng, mask_rate, scenario)
              for p in populations_]
    data = np.vstack(blocks)
    data = data[rng.permutation(len(data))]
    return data[:, :-1], data[:, -1]


def llr_vertex(mu0: float, s0: float, mu1: float, s1: float) -> float:
    """z* = argmin of the log likelihood ratio ln f1(z)/f0(z) of two normals on ln(seconds).

    With s1 > s0 the ratio is a convex parabola in z: it *falls* as the walk
    gets faster than exp(z*), an artefact of log-normal fits to a
    right-skewed faller SD, which the model does not reproduce.
    """
    a0, a1 = 1 / s0**2, 1 / s1**2
    return float((mu0 * a0 - mu1 * a1) / (a0 - a1))


#: The time contribution is held constant outside [1st percentile of fallers,
#: 99th percentile of non-fallers] of each population's fitted distributions:
#: beyond them the published summaries say nothing about how fast the ratio
#: changes, and the log-normal tails would give near-certain probabilities.
#: source: product choice (a support limit), not a published number.
SUPPORT_QUANTILE = 0.01


def time_params() -> tuple[tuple[float, ...], ...]:
    """Per modelled population ``(c2, z_star, b1, z_lo, z_hi)`` of the monotone time transform.

    ``g(z) = c2·(max(z', z*) − z*)² + b1·(z' − ln 5)`` with
    ``z' = clip(ln seconds, z_lo, z_hi)``.

    * community (unequal variances): above z* the log-normal log likelihood
      ratio is exactly ``c2·(z − z*)² + const`` with
      ``c2 = 1/(2σ0²) − 1/(2σ1²)``; below z* (≈ 4.55 s) g is held at its
      minimum, so a faster walk never raises the risk (b1 = 0);
    * equal-variance populations: the log likelihood ratio is linear,
      ``b1 = (μ1 − μ0)/σ²``, c2 = 0;
    * z_lo, z_hi: the support limits of :data:`SUPPORT_QUANTILE`.

    g is the published distributions' own log likelihood ratio (made
    monotone and bounded), so its fitted coefficient should be close to 1.
    """
    q = float(ndtri(1 - SUPPORT_QUANTILE))
    out = []
    evid = population_evidence()
    for pid in MODEL_POPULATIONS:
        t = evid[pid].time
        (mu0, mu1), (s0, s1) = t.mu, t.sigma
        z_lo, z_hi = mu1 - q * s1, mu0 + q * s0
        if abs(s1 - s0) > 1e-12:
            out.append((0.5 / s0**2 - 0.5 / s1**2, llr_vertex(mu0, s0, mu1, s1), 0.0, z_lo, z_hi))
        else:
            out.append((0.0, 0.0, (mu1 - mu0) / s0**2, z_lo, z_hi))
    return tuple(out)
