"""Every cited cell of the reference tables maps to a full reference (the app's Evidence page)."""

from __future__ import annotations

import re

import pytest

from assessment.sources import sources, table_uses

OWN_TABLES = ("cutoffs", "bands", "populations", "reference_cohorts", "steadi_stay_independent", "steadi_chair_stand")


def test_every_cited_cell_of_the_reference_tables_has_a_full_reference():
    found, unmatched = sources()
    assert found
    own = {cell for table, cell, _ in table_uses() if table in OWN_TABLES}
    assert not [cell for cell, _ in unmatched if cell in own]


@pytest.mark.parametrize("key, use", [
    ("soke_2022", "multiple_sclerosis: cut-off ≥ 7.86 s"),
    ("chan_2022", "Dementia: minimal detectable change (MDC95)"),
    ("sahan_2023", "Lower-limb amputation: minimal detectable change (MDC95)"),
    ("mbada_2023", "reference cohort: Community-dwelling young-old adults (Nigeria, Mbada 2023), 3.45 ± 0.80 s"),
    ("polo_ferrero_2025", "community: cut-off ≥ 5.5 s"),
])
def test_sources_say_what_they_decide(key, use):
    (src,) = [s for s in sources()[0] if s.key == key]
    assert any(u.startswith(use) for u in src.uses)
    assert re.search(r"\d{4}", src.citation)


def test_abstract_sources_are_marked_where_they_decide_something():
    by_key = {s.key: s for s in sources()[0]}
    for key in ("chan_2022", "sahan_2023"):
        assert all(u.endswith("[read from the abstract only]") for u in by_key[key].uses)
    soke = by_key["soke_2022"].uses
    assert any("7.86" in u and u.endswith("[read from the abstract only]") for u in soke)
    assert any("MDC95" in u and "abstract" not in u for u in soke)  # §4 row: not marked (abstract) in the evidence file


def test_extra_uses_are_added_to_their_source():
    found, unmatched = sources([("§5, Deandrea 2010", "a model term"), ("nowhere 1999", "an orphan")])
    assert "a model term" in {s.key: s for s in found}["deandrea_2010"].uses
    assert ("nowhere 1999", "an orphan") in unmatched
