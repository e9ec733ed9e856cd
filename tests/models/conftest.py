import pytest

from models import load_default_model
from models.evaluate import evaluate
from models.train import DEFAULT_SEED, train_evidence_model


@pytest.fixture(scope="session")
def model():
    return load_default_model()


@pytest.fixture(scope="session")
def retrained():
    """The default model retrained from its seed (no card: predictions only)."""
    return train_evidence_model(DEFAULT_SEED, with_card=False)


@pytest.fixture(scope="session")
def evaluation(model):
    """Metrics on an independent cohort (a seed used neither for training nor for the shipped card)."""
    return evaluate(model, seed=424242, n_per_population=30_000)
