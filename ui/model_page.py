"""Model: the model card, the scenario checks and reliability diagram (each
labelled with the simulated cohort it comes from), the active version, and
local recalibration (admins) with its comparison shown before activation."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from assessment.errors import InputError
from models.model import HORIZON
from records import services

from .common import show_error
from .resources import actor, database, fall_risk_model

ROLE_KEY = "clinician_role"


def reliability_chart(rows: list[dict]) -> alt.Chart:
    """Observed fall rate against mean predicted probability, per bin and scenario, with the diagonal."""
    frame = pd.DataFrame(rows)
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="#888").encode(
        x="x:Q", y="y:Q")
    points = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("mean_predicted:Q", title="Mean predicted probability", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("observed_rate:Q", title="Observed fall rate", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("scenario:N", title="Simulated scenario"),
        tooltip=["scenario:N", "n:Q", alt.Tooltip("mean_predicted:Q", format=".3f"),
                 alt.Tooltip("observed_rate:Q", format=".3f")],
    )
    return (diagonal + points).properties(height=340)


def reliability_rows(metrics: dict, population: str = "community") -> list[dict]:
    """Reliability bins of one population under each simulated scenario (all populations, mix, for old metrics)."""
    rows = []
    for scenario, block in (metrics.get("scenarios") or {}).items():
        for r in block["by_population"][population]["reliability"]:
            rows.append({**r, "scenario": scenario})
    if not rows:
        rows = [{**r, "scenario": "evidence cohort"} for r in (metrics.get("overall") or {}).get("reliability", [])]
    return rows


def scenario_rows(metrics: dict) -> list[dict]:
    """The scenario table (A, B, half-and-half mix) as display rows."""
    rows = []
    for scenario, block in (metrics.get("scenarios") or {}).items():
        for pid, m in block["by_population"].items():
            rows.append({"Scenario": scenario, "Population": pid, "n": m["n"], "ECE": m["ece"],
                         "Slope": m["calibration_slope"], "AUC": m["auc"], "ECE, time only": m["time_only_ece"],
                         "Deciles covered": f"{m['deciles_covered']} / 10"})
    return rows


def _recalibration(db) -> None:
    st.subheader("Local recalibration (admin)")
    if st.session_state.get(ROLE_KEY) != "admin":
        st.info("Only an admin can recalibrate or activate a model version.")
        return
    from models.persist import to_bytes
    from models.recalibrate import NotEnoughOutcomes, RecalibrationRefused, recalibrate

    if st.button("Recalibrate on this clinic's recorded outcomes", key="recalibrate"):
        outcomes = services.labelled_outcomes(db, actor=actor())
        if not outcomes:
            st.info("No assessment has a known 12-month outcome yet: nothing to recalibrate on.")
            return
        try:
            new = recalibrate(fall_risk_model(), outcomes)
            services.save_model_version(db, version=new.version, kind=new.kind, artifact=to_bytes(new),
                                        card=new.card, metrics=new.metrics, actor=actor())
        except (NotEnoughOutcomes, RecalibrationRefused) as exc:
            st.error(str(exc))
            return
        except InputError as exc:
            show_error(exc)
            return
        st.success(f"Saved {new.version} (inactive). Compare below before activating.")
    versions = services.list_model_versions(db)
    inactive = [v for v in versions if not v.active]
    if not inactive:
        return
    pick = st.selectbox("Stored version", [v.version for v in inactive], key="model_pick")
    chosen = next(v for v in inactive if v.version == pick)
    local = chosen.metrics.get("local") or {}
    if local:
        st.caption(f"Cohort: this clinic's own recorded outcomes ({local.get('n_used')} assessments with a known "
                   f"12-month outcome), {local.get('folds')}-fold cross-validated: real patients, unlike the "
                   "simulated checks above.")
        st.dataframe(pd.DataFrame([local]).T.rename(columns={0: "value"}).astype(str), width="stretch")
    if st.button(f"Activate {pick}", type="primary", key="activate"):
        try:
            services.activate_model_version(db, pick, actor=actor())
        except InputError as exc:
            show_error(exc)
            return
        st.success(f"{pick} is now active for new assessments.")


def render() -> None:
    """The Model page."""
    st.title("Model")
    db = database()
    model = fall_risk_model()
    if model is None:
        st.error("No fall-risk model could be loaded.")
        return
    active = services.active_model_version(db)
    st.metric("Active version", model.version, help="Stored active version" if active else "Shipped default model")
    st.caption(f"Kind: {model.kind}. Every probability is of {HORIZON}; each result lists the inputs it used.")
    metrics = model.metrics.get("parent_metrics") or model.metrics
    reliability = reliability_rows(metrics)
    tab_card, tab_scen, tab_rel, tab_versions = st.tabs(["Model card", "Scenarios", "Reliability", "Versions"])
    with tab_card:
        st.markdown(model.card or "No model card stored with this version.")
    with tab_scen:
        rows = scenario_rows(metrics)
        if rows:
            st.warning("Checks of the model's own assumptions, not a validation: every cohort here is simulated "
                       "from the published summaries the model was built from.")
            labels = metrics["scenario_labels"]
            st.write("How the 3MBW time relates to fall history is unknown (the published fallers fell in the "
                     "*prior* year). Scenario " + "; scenario ".join(labels.values()) + ".")
            st.dataframe(rows, hide_index=True, width="stretch")
            st.caption("Slope: calibration slope (1 = ideal). Deciles covered: deciles of predicted risk whose "
                       "observed fall rate lies inside the mean 95 % interval. "
                       f"Cohorts: {metrics['scenarios']['A']['cohort']}; likewise for B and the mix (seeds + 1000, "
                       "+ 2000).")
        else:
            st.info("This model version was evaluated before the structural scenarios: no scenario table.")
    with tab_rel:
        if reliability:
            st.warning("Simulated cohort: a check of the model's own assumptions, not a validation.")
            st.altair_chart(reliability_chart(reliability), width="stretch")
            st.caption("Community population, 30 % of predictors unknown, under each simulated scenario; points on "
                       "the dashed diagonal are perfectly calibrated. Under A the model is slightly too cautious at "
                       "the extremes, under B slightly too extreme: it averages the two. Cohorts: "
                       f"{metrics['scenarios']['A']['cohort'] if metrics.get('scenarios') else metrics.get('cohort', 'simulated')}"
                       "; likewise for B and the mix.")
        else:
            st.info("No reliability table stored with this model version.")
    with tab_versions:
        rows = [{"Version": v.version, "Kind": v.kind, "Active": v.active, "Created": v.created_at,
                 "By": v.created_by} for v in services.list_model_versions(db)]
        st.dataframe(rows, hide_index=True) if rows else st.write("No stored versions: the shipped model is in use.")
    _recalibration(db)
