"""StepBack's calibrated fall-risk model.

Imports only :mod:`assessment` (never records, reports or ui).

>>> from models import load_default_model
>>> m = load_default_model()
>>> m.predict_one({"mean_seconds": 6.2, "prior_falls": "1"}).risk_category   # doctest: +SKIP
"""

from .model import FallRiskModel, RiskEstimate
from .persist import load_default_model
from .scoring_hook import features_of, risk_function

__all__ = ["FallRiskModel", "RiskEstimate", "features_of", "load_default_model", "risk_function"]
