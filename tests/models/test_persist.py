"""skops persistence, the shipped artifact and its reproducibility."""

import numpy as np
import pytest
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException

from models import persist
from models.card import CARD_PATH, render_card
from models.evidence import evidence_cohort


def test_artifact_is_small_and_uses_only_trusted_types():
    path = persist.default_artifact_path()
    data = path.read_bytes()
    assert len(data) < 2 * 1024 * 1024
    assert sorted(sio.get_untrusted_types(data=data)) == sorted(persist.TRUSTED_TYPES)


def test_untrusted_content_is_refused():
    import os

    from sklearn.preprocessing import FunctionTransformer

    data = sio.dumps({"state": "{}", "estimator": FunctionTransformer(os.system)})
    with pytest.raises(UntrustedTypesFoundException):
        persist.from_bytes(data)


def test_round_trip(model):
    again = persist.from_bytes(persist.to_bytes(model))
    X, _ = evidence_cohort(8, 500)
    assert again.version == model.version and again.card == model.card and again.metrics == model.metrics
    assert np.array_equal(again.linear(X)[0], model.linear(X)[0])


def test_retraining_with_the_seed_reproduces_the_shipped_model(model, retrained):
    X, _ = evidence_cohort(77, 3000)
    a, sa = model.linear(X)
    b, sb = retrained.linear(X)
    assert np.allclose(a, b, atol=1e-9) and np.allclose(sa, sb, atol=1e-9)


def test_card_on_disk_is_the_shipped_models_card(model):
    assert CARD_PATH.read_text(encoding="utf-8") == model.card == render_card(model, model.metrics)
