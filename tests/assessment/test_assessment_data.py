"""The reference tables in assessment/data match shared/clinical-evidence.md row by row.

Expected values are typed in from the evidence file (row named next to each).
"""

from __future__ import annotations

import pytest

from assessment import POPULATION_IDS, populations
from assessment.populations import reference_cohorts
from assessment.tables import read_table

TABLES = ["bands", "cutoffs", "populations", "reference_cohorts", "steadi_chair_stand", "steadi_stay_independent"]


@pytest.mark.parametrize("name", TABLES)
def test_every_row_names_its_evidence_row(name):
    rows = read_table(name)
    assert rows
    source_columns = [c for c in rows[0] if c == "source" or c.endswith("_source")]
    assert source_columns, f"{name}.csv has no source column"
    for row in rows:
        cited = [row[c] for c in source_columns if row[c]]
        if name == "populations" and not cited:
            # a population with nothing published (no MDC95, no pre-test rate) cites nothing
            assert not row["mdc95_seconds"] and not row["pretest_fall_rate"] and not row["mdc95_kind"]
            continue
        assert cited, row
        assert all(c.startswith("clinical-evidence.md §") for c in cited), row


@pytest.mark.parametrize(
    "cohort, n, mean, sd, verified",
    [
        ("polo_ferrero_2025_nonfallers", 382, 5.1, 1.3, True),  # §3: 483 − 101 fallers; 5.1 ± 1.3 s
        ("polo_ferrero_2025_fallers", 101, 6.8, 3.4, True),  # §3: 6.8 ± 3.4 s
        ("mbada_young_old", 62, 3.45, 0.80, True),  # §3: Mbada et al. 2023, Advances in Rehabilitation
    ],
)
def test_reference_cohorts(cohort, n, mean, sd, verified):
    c = reference_cohorts()[cohort]
    assert (c.n, c.mean_seconds, c.sd_seconds, c.verified) == (n, mean, sd, verified)
    assert c.source.startswith("clinical-evidence.md §3")


@pytest.mark.parametrize(
    "population, rate",
    [
        ("community", 0.275),  # §5 Moreland 2020 (2018 figure)
        ("nursing_home", 0.396),  # §5 Kapan 2025
        ("parkinsons", None),
        ("stroke", None),
    ],
)
def test_pretest_fall_rates(population, rate):
    assert populations()[population].pretest_fall_rate == rate


def test_every_population_is_loaded_in_display_order():
    assert tuple(populations()) == POPULATION_IDS
    assert populations()["community"].reference_cohort.id == "polo_ferrero_2025_nonfallers"
