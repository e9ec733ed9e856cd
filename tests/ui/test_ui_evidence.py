"""The Evidence page and the Model page's scenario checks, through AppTest on a real SQLite file."""

from __future__ import annotations

from models import load_default_model
from ui.common import md_escape

from ui_helpers import signed_in


def test_evidence_page_lists_every_source_with_its_full_reference(db):
    at = signed_in("ui/pages/evidence.py")
    assert [t.value for t in at.title] == ["Evidence"]
    labels = [e.label for e in at.expander]
    citations = " ".join(labels)
    for ref in ("doi:10.3390/jfmk10020154", "Deandrea", "Söke", "Chan", "Şahan", "Mbada", "Moreland", "MMWR 2023"):
        assert ref in citations
    read = [c.value for c in at.caption if c.value.startswith("How it was read")]
    assert len(read) == len(labels) and not any("Decides 0 " in c for c in read)
    assert any("Söke" in label and "abstract" in label for label in labels) is False  # Söke: only its cut-off is abstract
    assert any("Chan" in label and "read from the abstract only" in label for label in labels)
    body = " ".join(m.value for m in at.markdown)
    assert md_escape("multiple_sclerosis: cut-off ≥ 7.86 s") in body
    assert md_escape("[read from the abstract only]") in body
    assert md_escape("fall-risk model: history of falls") in body
    assert "clinical-evidence.md" not in citations  # users get references, not our file


def test_model_page_labels_metrics_as_checks_on_simulated_cohorts(db):
    at = signed_in("ui/pages/model.py")
    model = load_default_model()
    rows = at.dataframe[0].value
    assert sorted(set(rows["Scenario"])) == ["A", "B", "mix"] and len(rows) == 9
    community_b = rows[(rows["Scenario"] == "B") & (rows["Population"] == "community")].iloc[0]
    assert community_b["ECE"] == model.metrics["scenarios"]["B"]["by_population"]["community"]["ece"]
    warnings = [w.value for w in at.warning]
    assert sum("not a validation" in w for w in warnings) == 2  # scenario table and reliability diagram
    captions = " ".join(c.value for c in at.caption)
    assert "a fall in the next 12 months" in captions and "simulated cohort" in captions
    assert "under each simulated scenario" in captions  # the reliability diagram shows A, B and the mix


def test_model_page_says_a_recalibration_comes_from_the_clinics_own_outcomes(db):
    import numpy as np
    import pandas as pd
    from scipy.special import expit

    from models.evidence import evidence_cohort
    from models.persist import to_bytes
    from models.recalibrate import recalibrate
    from records import services

    model = load_default_model()
    X, _ = evidence_cohort(3, 600, populations_=("community",))
    fell = (np.random.default_rng(3).random(len(X)) < expit(0.5 + model.linear(X)[0])).astype(int)
    new = recalibrate(model, pd.DataFrame({"mean_seconds": np.exp(X[:, 1]).clip(1, 120), "fell": fell}),
                      version="evidence-2.0.0+ui")
    services.save_model_version(db, version=new.version, kind=new.kind, artifact=to_bytes(new), card=new.card,
                                metrics=new.metrics)
    at = signed_in("ui/pages/model.py", user="boss")
    captions = " ".join(c.value for c in at.caption)
    assert "this clinic's own recorded outcomes (600 assessments" in captions and "5-fold" in captions
