"""The model card: generated from the model, the evidence constants and the metrics."""

from __future__ import annotations

import math
from pathlib import Path

from assessment import populations

from . import evidence as E
from .features import DESIGN_COLUMNS
from .model import THRESHOLD_ODDS_FACTOR, UNMODELLED_NOTES, FallRiskModel, category_thresholds

CARD_PATH = Path(__file__).with_name("card.md")


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _metrics_table(metrics: dict) -> list[str]:
    rows = ["| cohort | n | AUC | Brier | calibration intercept | calibration slope | ECE |", "|---|---|---|---|---|---|---|"]
    blocks = [("all populations", metrics["overall"])] + list(metrics.get("by_population", {}).items())
    for name, m in blocks:
        rows.append(f"| {name} | {m['n']} | {m['auc']:.3f} | {m['brier']:.3f} | {m['calibration_intercept']:+.3f} | {m['calibration_slope']:.3f} | {m['ece']:.3f} |")
    return rows


def _scenario_table(metrics: dict) -> list[str]:
    rows = ["| scenario | population | n | ECE | calibration slope | calibration intercept | AUC | time-only ECE | "
            "deciles with the observed rate inside the 95 % interval |", "|---|---|---|---|---|---|---|---|---|"]
    for scenario, block in metrics.get("scenarios", {}).items():
        for pid, m in block["by_population"].items():
            rows.append(f"| {scenario} | {pid} | {m['n']} | {m['ece']:.3f} | {m['calibration_slope']:.3f} | "
                        f"{m['calibration_intercept']:+.3f} | {m['auc']:.3f} | {m['time_only_ece']:.3f} | "
                        f"{m['deciles_covered']} / 10 |")
    return rows


def source_rows() -> list[dict]:
    """Every published number the model uses: quantity, value, what it is used for, source.

    The card's source table and the app's Evidence page both read this.
    """
    pops = populations()
    rows = [
        ("community fallers / non-fallers, 3MBW",
         f"{E.POLO_FALLERS_MEAN} ± {E.POLO_FALLERS_SD} s (n {E.POLO_FALLERS_N}) / {E.POLO_NONFALLERS_MEAN} ± "
         f"{E.POLO_NONFALLERS_SD} s (n {E.POLO_NONFALLERS_N}); fallers = fell in the *prior* 12 months",
         "community time distributions (of future fallers under scenario A, of prior fallers under B); pooled log-SD; "
         "interval cohort size", "§2, Polo-Ferrero 2025"),
        ("community cut-off", f"{E.POLO_CUTOFF_SECONDS} s: sensitivity {_pct(E.POLO_SENSITIVITY)}, specificity "
         f"{_pct(E.POLO_SPECIFICITY)}, AUC {E.POLO_AUC}", "check reproduced under scenario A", "§2, Polo-Ferrero 2025"),
        ("community fall rate of the source cohort", "20.9 % fell in the prior 12 months (101 of 483)",
         "not the prior: see \"Why 27.5 % and not 20.9 %\"", "§2, Polo-Ferrero 2025"),
        ("community pre-test rate", _pct(pops["community"].pretest_fall_rate),
         "community prior; Parkinson's prior; prior-fall prevalence", "§5, Moreland 2020"),
        ("nursing homes, future falls", f"AUC {E.KAPAN_FUTURE_AUC}, cut-off {E.KAPAN_FUTURE_CUTOFF_SECONDS} s, n {E.KAPAN_N}",
         "nursing-home time distributions (prospective: scenario A only)", "§2, Kapan 2025"),
        ("nursing homes, past falls", f"AUC {E.KAPAN_PAST_AUC}, cut-off {E.KAPAN_PAST_CUTOFF_SECONDS} s",
         "not used (the model predicts future falls)", "§2, Kapan 2025"),
        ("nursing-home pre-test rate", f"{_pct(pops['nursing_home'].pretest_fall_rate)} fell in the prior 12 months",
         "nursing-home prior and prior-fall prevalence", "§5, Kapan 2025"),
        ("Parkinson's disease", f"AUC {E.CARTER_PD_AUC}, cut-off {E.CARTER_PD_CUTOFF_SECONDS} s, n {E.CARTER_PD_N}",
         "Parkinson's time distributions (faller definition not stated: scenarios A and B)", "§2, Carter 2020"),
        ("Parkinson's disease, small sample", "cut-off 10.31 s, n 36", "not used (no AUC, small)", "§2, Kocer 2023"),
        ("multiple sclerosis", "faller cut-off 7.86 s, n 49; no sensitivity, specificity or AUC",
         "a band only, no probability (read from the abstract only)", "§2, Söke 2022 (abstract)"),
        ("dementia", "fallers vs non-fallers not different (p = 0.13), n 30",
         "no probability (read from the abstract only)", "§2, Chan 2022 (abstract)"),
        ("stroke, ≤ 1 month", "no difference by fall history, n 35", "no probability", "§2, Kapan 2023"),
        ("lower-limb amputation", "3.11 s separates from healthy adults; not a fall cut-off",
         "no probability (read from the abstract only)", "§2, Şahan 2023 (abstract)"),
        ("history of falls", f"OR {E.OR_PRIOR_FALL} (any fall); {E.OR_PRIOR_FALL_RECURRENT} for recurrent falls; no CI "
         "in the evidence file", f"prior falls (1 and 2+ both OR {E.OR_PRIOR_FALL}); the link between history and "
         "future falls in scenario B", "§5, Deandrea 2010"),
        ("walking aid", f"OR {E.OR_WALKING_AID} (any fall); no CI in the evidence file", "walking aid", "§5, Deandrea 2010"),
        ("Parkinson's disease", f"OR {E.OR_PARKINSONS} (any fall)", "Parkinson's pre-test odds", "§5, Deandrea 2010"),
        ("vertigo", f"OR {E.OR_VERTIGO}", "not used: not recorded by StepBack", "§5, Deandrea 2010"),
        ("STEADI moderate vs low", f"OR {E.OR_STEADI_MODERATE} ({E.OR_STEADI_MODERATE_CI[0]}–{E.OR_STEADI_MODERATE_CI[1]})",
         "STEADI level; its CI gives its interval term", "§5, NHATS (PMC5729578)"),
        ("STEADI high vs low", f"OR {E.OR_STEADI_HIGH} ({E.OR_STEADI_HIGH_CI[0]}–{E.OR_STEADI_HIGH_CI[1]})",
         "not used as a level (defined by fall history, its own predictor); its CI, the widest in the file, sets the "
         "assumed width of the ORs without a CI", "§5, NHATS"),
        ("fell in 2020, women / men / all", f"{_pct(E.KAKARA_WOMEN)} / {_pct(E.KAKARA_MEN)} / {_pct(E.KAKARA_ALL)}; no CI",
         f"community sex effect: OR {E.sex_odds_ratio():.3f}, implied share of women {_pct(E.women_share())}",
         "§5, Kakara 2023"),
        ("STEADI thresholds", "Stay Independent ≥ 4; TUG ≥ 12 s; tandem < 10 s; chair-stand norms by age and sex",
         "STEADI level", "§5, CDC STEADI (assessment/steadi.py)"),
    ]
    return [{"quantity": q, "value": v, "used_for": u, "source": src} for q, v, u, src in rows]


def _reliability(metrics: dict) -> list[str]:
    rows = ["| predicted bin | n | mean predicted | observed |", "|---|---|---|---|"]
    for r in metrics["overall"]["reliability"]:
        rows.append(f"| {r['bin_low']:.1f}–{r['bin_high']:.1f} | {r['n']} | {r['mean_predicted']:.3f} | {r['observed_rate']:.3f} |")
    return rows


def render_card(model: FallRiskModel, metrics: dict | None = None) -> str:
    """Markdown model card for ``model``.

    Parameters
    ----------
    model : FallRiskModel
    metrics : dict, optional
        From :func:`models.evaluate.evaluate` (defaults to ``model.metrics``);
        a recalibrated model's ``metrics`` also carry the local comparison.
    """
    metrics = metrics if metrics is not None else model.metrics
    evid = E.population_evidence()
    L: list[str] = []
    add = L.append
    add(f"# Model card: StepBack fall-risk model `{model.version}`")
    add("")
    add("*Generated by `models.card.render_card`; do not edit by hand.*")
    add("")
    add("## Intended use")
    add("")
    add("Estimates, for an adult assessed with the 3-meter backward walk test (3MBW), the probability of **at least one fall "
        "in the next 12 months**, with a 95 % interval and a low / moderate / high category, as a support to a clinician's "
        "judgement. It is not a diagnosis and must not be used to withhold assessment or treatment.")
    add("")
    add("**The 3MBW discriminates fallers only modestly (published AUC 0.65–0.75). This model has not been validated "
        "prospectively in any population: it is built from published summary statistics, not from patient-level data.**")
    add("")
    add(f"Kind: `{model.kind}`" + (f"; derived from `{model.parent_version}`" if model.parent_version else "")
        + (f"; seed {model.seed}" if model.seed is not None else "") + ".")
    add("")
    add("## Populations")
    add("")
    add("| population | probability given | pre-test rate | time evidence | low below | high at or above |")
    add("|---|---|---|---|---|---|")
    for pid in E.MODEL_POPULATIONS:
        ev = evid[pid]
        lo, hi = category_thresholds(ev.pretest_rate)
        add(f"| {pid} | yes | {_pct(ev.pretest_rate)} ({ev.pretest_source}) | {ev.time.derivation} | {_pct(lo)} | {_pct(hi)} |")
    for pid, why in UNMODELLED_NOTES.items():
        add(f"| {pid} | **no** (probability None, with a note) | — | {why} | — | — |")
    add("")
    add("For populations without published faller / non-faller 3MBW data the model returns no probability rather than "
        "invent a time effect or borrow one from another population.")
    add("")
    add("## Every source number")
    add("")
    add("All from `shared/clinical-evidence.md` (section and row below; the app's Evidence page lists them with full "
        "references). *(abstract)*: read from the abstract only.")
    add("")
    add("| quantity | value | used for | source |")
    add("|---|---|---|---|")
    for r in source_rows():
        add(f"| {r['quantity']} | {r['value']} | {r['used_for']} | {r['source']} |")
    add("")
    add("**Why 27.5 % and not 20.9 %.** The community prior is the US rate of adults ≥ 65 who fell in a year (Moreland "
        "2020, a national survey; WHO's 28–35 % agrees), not Polo-Ferrero's 20.9 %: that cohort is one Spanish sample "
        "of 483, and its time distributions are *conditional on* fall status, so the likelihood ratio they give does "
        "not depend on how common falls were in it (Bayes' rule keeps the prior and the likelihood apart). A clinic "
        "whose patients resemble Polo-Ferrero's can set `--base-rate 0.209`; every likelihood ratio stays the same.")
    add("")
    add("## How the evidence cohort is generated (every assumption)")
    add("")
    sigma = E.pooled_community_log_sd()
    tparams = E.time_params()
    c2, z_star = tparams[0][0], tparams[0][1]
    add("1. **Two structural scenarios.** Polo-Ferrero's fallers fell in the *prior* 12 months, so how the time "
        "relates to fall history is unknown. *Scenario A* (conditional independence): a fall in the next 12 months "
        "F ~ Bernoulli(pre-test rate); the time and a prior fall H each depend on F only. *Scenario B* (the time "
        "tracks fall history): H ~ Bernoulli(prior-fall prevalence); the time depends on H only (the published faller "
        "groups *are* prior fallers); F depends on H with Deandrea's OR 2.8 and the pre-test rate overall, so once H "
        "is known the time says nothing more. Under A the shipped 1.x model was calibrated; under B it double-counted "
        "the time and the history (calibration slope well below 1). B applies where the faller groups were not "
        "defined prospectively (community; Parkinson's, definition not stated); the nursing-home time link is Kapan's "
        "prospective one (falls in the next 4 months), so there B equals A — but conditional independence of time and "
        "history given future falls stays an **assumption** there, not covered by the interval.")
    add(f"2. **Model averaging.** The point estimate is fitted on a *mix* cohort in which each simulated patient comes "
        f"from A with probability {E.MIX_WEIGHT:g} (a product choice: nothing in the evidence favours either end), "
        "else from B: a logistic fit on it estimates the Bayesian model average P(F | x) = Σ P(scenario | x) · "
        "P(F | x, scenario). It is calibrated on the mix and stays close under either end (scenario table below). "
        "The time term has a separate coefficient when fall history is known (it is near zero under B), and is still "
        "never negative.")
    add("3. Community times: log-normal fits of the published means and SDs (method of moments, "
        "`assessment.scoring.lognormal_params`).")
    add(f"4. Nursing-home and Parkinson's times (only an AUC and a cut-off are published): equal-variance binormal on ln(seconds), "
        f"log-SD σ = {sigma:.4f} borrowed from the community cohort (pooled within-group log-SD of Polo-Ferrero's two groups, "
        "weighted by n − 1), separation d = √2·Φ⁻¹(AUC), and the published cut-off taken as the Youden point, which for equal "
        "variances is the midpoint of the two log-means. Nursing homes use Kapan's *future-falls* AUC 0.74 and 8.15 s.")
    pd_rate = evid["parkinsons"].pretest_rate
    add(f"5. Parkinson's pre-test rate {_pct(pd_rate)}: **assumption** — community pre-test odds × Deandrea's Parkinson's OR 2.7.")
    add("6. **Conditional independence of the other predictors:** in both scenarios walking aid, STEADI level and sex "
        "depend on the future fall only. Walking aid, STEADI level and a slow walk are surely correlated too, and the "
        "Stay Independent score itself counts a past fall and a walking aid, so their combined effect is probably "
        "overstated; only the time–history link is covered by the scenarios.")
    add("7. Each binary predictor: P(yes | fall) and P(yes | no fall) solved so the odds ratio equals the published OR and the "
        "overall prevalence equals: prior falls — the population's pre-test rate (**assumption**: last year's fall rate equals "
        f"next year's); walking aid — **{_pct(E.ASSUMED_WALKING_AID_PREVALENCE)}, an assumption** (no prevalence in the evidence); "
        f"STEADI at-risk level — **{_pct(E.ASSUMED_STEADI_AT_RISK_PREVALENCE)}, an assumption**; women (community) — "
        f"{_pct(E.women_share())}, implied by Kakara 2023. The assumed prevalences only set how far a known \"no\" lies below "
        "\"unknown\"; the yes-vs-no odds ratio is the published one whatever they are.")
    add("8. Prior falls 0 / 1 / 2+: the evidence gives one OR (2.8) for a history of falls and any fall as the outcome, so 1 and "
        "2+ get the same effect; 3.5 is for *recurrent* falls as the outcome and is not used.")
    add("9. Age has no term: within older adults the evidence gives only overlapping ranges (WHO: 28–35 % at ≥ 65, 32–42 % "
        "above 70), no usable effect. Age is used to judge the chair-stand item against its norm and to check the "
        "population's age range: at an age outside the population's evidence (community and nursing homes: under 60, "
        "a product choice from the older-adult cohorts) the model gives **no probability**, and scoring gives no "
        "percentile, with a note instead. Sex has a term only in the community population (Kakara 2023 is a community "
        "survey).")
    add(f"10. Unknown values: every predictor except the time is hidden completely at random (MCAR) with probability "
        f"{E.MASK_RATE} in the cohort and encoded as an explicit \"unknown\" level (the reference level of each block), so the "
        "model averages over it; it never assumes \"no\". Sex uses one symmetric contrast (+1 female, −1 male, 0 unknown).")
    add("11. STEADI items enter as one level following the structure of the CDC STEADI algorithm without its fall-history "
        "step: *at risk* = Stay Independent ≥ 4 **and** a gait/strength/balance problem (TUG ≥ 12 s, chair stands below the "
        "age-and-sex norm, or tandem < 10 s); *low* = Stay Independent < 4, or all three tests recorded and none at risk; "
        "otherwise unknown. The NHATS operationalisation of the levels is not in the evidence file; this mapping is a product "
        "choice.")
    add(f"12. Cohort: {E.TRAIN_N_PER_POPULATION:,} simulated patients per population (a simulation device, not a study size), "
        "fixed seed.")
    add("")
    add("## The model")
    add("")
    add("scikit-learn `Pipeline` (`FunctionTransformer(design_matrix)` → `LogisticRegression`, C = 1e4, no global intercept: "
        "one intercept per population) inside `CalibratedClassifierCV(method=\"sigmoid\", ensemble=False)` on shuffled "
        "stratified 5-fold CV. Persisted with skops (explicit trusted-types list). Every block is interacted with the population.")
    add("")
    add(f"**Monotone time effect.** The unequal-variance community log-normals give a log likelihood ratio that is a convex "
        f"parabola in ln(seconds) with its minimum at {math.exp(z_star):.2f} s: taken literally, walking faster than that would "
        "*raise* the risk, an artefact of fitting a log-normal to the fallers' right-skewed SD. The time therefore enters "
        f"through g(t) = c·(max(ln t, ln t*) − ln t*)² with t* = {math.exp(z_star):.2f} s and c = 1/(2σ0²) − 1/(2σ1²) = {c2:.3f} "
        "(the parabola above its minimum, held flat below it), and through the linear log likelihood ratio "
        "(μ1 − μ0)/σ²·ln t in the equal-variance populations. Its fitted coefficient must be positive (checked at fit time), "
        "so the probability never decreases as the walk gets slower. Consequence: in the community, walks faster than "
        f"{math.exp(z_star):.2f} s all get the same time contribution.")
    add("")
    limits = ", ".join(f"{pid} {math.exp(r[3]):.2f}–{math.exp(r[4]):.2f} s" for pid, r in zip(E.MODEL_POPULATIONS, tparams))
    add(f"**Support limits (product choice).** Outside the 1st percentile of the fallers' and the 99th percentile of the "
        f"non-fallers' fitted distributions ({limits}) the time contribution is held constant: the published summaries say "
        "nothing about the tails, and the log-normal tails would otherwise give near-certain probabilities for very slow walks.")
    add("")
    add("Effective logit coefficients (after calibration):")
    add("")
    add("| term | coefficient |")
    add("|---|---|")
    for name, c in zip(DESIGN_COLUMNS, model.coef):
        add(f"| {name} | {c:+.4f} |")
    if model.kind != "evidence":
        a, b = model.recal
        add("")
        add(f"Local recalibration: final logit = {a:+.4f} + {b:.4f} × evidence logit.")
    add("")
    add("## 95 % interval")
    add("")
    add("On the logit scale, then transformed. Sampling variance = (a) the covariance of the intercept and the time "
        "coefficient from 200 bootstrap refits of a time-only model on simulated cohorts **the size of each source "
        "study** (community 483, nursing homes 217, Parkinson's 175), so no interval is narrower than those studies "
        "allow; plus (b) for each known predictor the variance of its ln OR, scaled by the delta method (a known "
        "\"yes\" sits about (1 − s)·ln OR above \"unknown\", a known \"no\" about s·ln OR below, s = its prevalence): "
        "STEADI from the NHATS 95 % CI; prior falls, walking aid and sex have **no CI in the evidence file**, so "
        f"their SE of ln OR is **assumed** to be {E.ASSUMED_LOG_OR_SE:.3f} — the widest relative CI of any OR in the "
        f"file (STEADI high vs low, 3.51–6.47), i.e. OR 2.8 taken as {2.8 * math.exp(-1.96 * E.ASSUMED_LOG_OR_SE):.2f}–"
        f"{2.8 * math.exp(1.96 * E.ASSUMED_LOG_OR_SE):.2f}, OR 2.2 as {2.2 * math.exp(-1.96 * E.ASSUMED_LOG_OR_SE):.2f}–"
        f"{2.2 * math.exp(1.96 * E.ASSUMED_LOG_OR_SE):.2f} and the sex OR {E.sex_odds_ratio():.2f} as "
        f"{E.sex_odds_ratio() * math.exp(-1.96 * E.ASSUMED_LOG_OR_SE):.2f}–{E.sex_odds_ratio() * math.exp(1.96 * E.ASSUMED_LOG_OR_SE):.2f} "
        "(Kakara's survey is large, but it is another population and year).")
    add("")
    add("**Structural term.** The same pipeline is refitted on a cohort of scenario A alone and of scenario B alone. "
        "The interval is the union of ± 1.96 sampling SE around the point estimate and around each scenario's "
        "estimate, so it contains the estimate under A, under B and anything between (each estimate is returned too, "
        "as `scenario_probabilities`). We chose this envelope over a variance term (w(1 − w)·(η_A − η_B)² added to "
        "the variance) because the latter, at ± 1.96 SD, would still leave an end scenario just outside when the "
        "two disagree most, which is where it matters.")
    add("")
    add("**Still not included:** the other structural assumptions (conditional independence of walking aid, STEADI and "
        "sex; log-normal or binormal times; the support limits; transport from Spain, Vienna and Carter's cohort), "
        "and the uncertainty of the pre-test rates.")
    add("")
    add("## Risk categories")
    add("")
    add(f"Thresholds are a **product choice, not published**: *low* when the probability's odds are under 1/{THRESHOLD_ODDS_FACTOR:g} "
        f"of the population's pre-test odds, *high* when they are at least {THRESHOLD_ODDS_FACTOR:g}× those odds (the findings "
        "halved or doubled the odds of an average person of the same population), *moderate* in between. They are returned "
        "with every result (see the populations table) and stay anchored to the published pre-test rate when a `base_rate` "
        "override is used.")
    add("")
    add("`base_rate` override (0 < P < 1): recalibration-in-the-large — the logit is shifted by logit(P) − logit(pre-test "
        "rate); under the model's Bayes structure this replaces the prior odds and leaves every likelihood ratio unchanged.")
    add("")
    if metrics:
        sim = metrics.get("parent_metrics") or metrics
        add("## Checks on simulated cohorts (not a validation)")
        add("")
        if sim is not metrics:
            add(f"These checks are of the parent model `{model.parent_version}`, before the local recalibration below.")
            add("")
        add("**Every metric below comes from cohorts simulated from the model's own assumptions** (the generator "
            "above, with a seed the model was not fitted on). They check that the fitting, the scenario averaging "
            "and the interval do what those assumptions imply; they say nothing about how the model does on real "
            "patients, which only observed outcomes can show (`stepback model recalibrate`).")
        add("")
        if "scenarios" in sim:
            seed = sim.get("seed")
            add(f"Scenario table ({sim.get('n_per_population'):,} per population and scenario, seeds {seed} (A), "
                f"{seed + 1000} (B), {seed + 2000} (mix), {E.MASK_RATE:.0%} of predictors unknown; scenario A: "
                f"{sim['scenario_labels']['A'].split(': ', 1)[1]}; B: {sim['scenario_labels']['B'].split(': ', 1)[1]}; "
                "mix: half of the patients from each):")
            add("")
            L.extend(_scenario_table(sim))
            add("")
        if "overall" in sim:
            add(f"All populations, half-and-half mix cohort ({sim.get('cohort', 'simulated evidence cohort')}):")
            add("")
            L.extend(_metrics_table(sim))
            add("")
            add("Reliability, all populations, same mix cohort (simulated: a check of the model's assumptions):")
            add("")
            L.extend(_reliability(sim))
            add("")
        checks = sim.get("published_checks")
        if checks:
            add("Published figures, time only (every other predictor unknown), on the scenario-A cohort, in which "
                "the published faller groups are future fallers:")
            add("")
            c = checks["community"]
            add(f"- community: AUC {c['time_only_auc']:.3f} (published {c['published_auc']}); at {c['cutoff_seconds']} s "
                f"sensitivity {_pct(c['sensitivity'])} (published {_pct(c['published_sensitivity'])}), specificity "
                f"{_pct(c['specificity'])} (published {_pct(c['published_specificity'])}). The AUC is slightly above the "
                "published one because walks faster than the flat-region knot are tied rather than ordered the wrong way.")
            add(f"- nursing homes: AUC {checks['nursing_home']['time_only_auc']:.3f} (published {checks['nursing_home']['published_auc']}).")
            add(f"- Parkinson's disease: AUC {checks['parkinsons']['time_only_auc']:.3f} (published {checks['parkinsons']['published_auc']}).")
            add("")
        local = metrics.get("local")
        if local:
            add("## Local recalibration")
            add("")
            add(f"Method: {local['method']}. Outcomes used: {local['n_used']} ({local['events']} events, {local['nonevents']} "
                f"non-events; {local['excluded']} excluded, population without a probability). Cross-validated "
                f"({local['folds']}-fold) on the clinic's data:")
            add("")
            add("| model | log-loss | Brier |")
            add("|---|---|---|")
            add(f"| current (`{model.parent_version}`) | {local['current']['log_loss']:.4f} | {local['current']['brier']:.4f} |")
            add(f"| this model | {local['new']['log_loss']:.4f} | {local['new']['brier']:.4f} |")
            add("")
            if local.get("note"):
                add(local["note"])
                add("")
    add("## Limits")
    add("")
    add("- Not validated prospectively; no patient-level data; every number comes from small retrospective studies or "
        "meta-analyses of other predictors.")
    add("- The 3MBW's discrimination is modest; most of any individual's probability comes from the pre-test rate.")
    add("- Conditional independence of walking aid, STEADI level and sex probably overstates the combined effect of "
        "several risk factors; the time–history link is bracketed by the two scenarios, nothing else is.")
    add("- Several decisions rest on sources read from their abstract only (multiple sclerosis, dementia, amputation): "
        "they give bands, notes and MDCs, never a probability.")
    add("- Populations are the published cohorts' (Spain, Vienna, Parkinson's cohort of Carter 2020); transport to other "
        "settings is untested. Clinics should recalibrate on their own outcomes (`models.recalibrate`).")
    add("- Fast-pace protocol only; the evidence cohorts walked without an assistive device (Carter 2019).")
    add("")
    return "\n".join(L)


def write_card(model: FallRiskModel | None = None, path: str | Path = CARD_PATH) -> Path:
    """Write the card of ``model`` (default: the shipped model) to ``models/card.md``."""
    if model is None:
        from .persist import load_default_model

        model = load_default_model()
    path = Path(path)
    path.write_text(model.card or render_card(model), encoding="utf-8")
    return path
