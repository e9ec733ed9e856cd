"""Fixtures for the report tests: example inputs, pdftoppm, one rendered sample."""

from __future__ import annotations

import os
import shutil

import pytest

from reports import build_clinician_report, build_patient_report, render_pdf
from reports.samples import example_inputs


def _build_both(**kw):
    inputs = example_inputs(**kw)
    return inputs, build_patient_report(**inputs), build_clinician_report(**inputs)


@pytest.fixture(scope="session")
def build_both():
    """``build_both(**example_kw) -> (inputs, patient_model, clinician_model)``."""
    return _build_both


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    """Path to pdftoppm; skipped locally when missing, a failure on CI."""
    path = shutil.which("pdftoppm")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is required on CI (apt-get install poppler-utils)")
        pytest.skip("pdftoppm not installed")
    return path


@pytest.fixture(scope="module")
def sample():
    """Default example (moderate risk, 10 assessments), built and rendered once."""
    inputs, patient, clinician = _build_both()
    return inputs, patient, clinician, render_pdf(patient), render_pdf(clinician)
