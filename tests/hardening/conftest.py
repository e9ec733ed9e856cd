"""Hardening tests: shared fixtures, and a count of Hypothesis inputs per input surface.

The count covers every Hypothesis test of the session (also those in
tests/assessment and tests/exchange), grouped by the input surface it
drives, and is printed in pytest's terminal summary::

    ---- hypothesis inputs per input surface ----
    CLI: stepback score          200 inputs (tests/hardening/test_hardening_cli.py)

It hooks Hypothesis's per-test statistics (the same numbers that
``--hypothesis-show-statistics`` prints), so nothing in the tests counts by hand.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis.statistics import collector

from hardening_support import REPORT_LINES

#: Test-file prefixes and the input surface their Hypothesis tests drive.
SURFACES = (
    ("tests/assessment/", "gatekeeper (validate_assessment)"),
    ("tests/exchange/test_exchange_fuzz.py", "CSV import"),
    ("tests/hardening/test_hardening_cli.py::test_score", "CLI: stepback score"),
    ("tests/hardening/test_hardening_cli.py::test_patient_add", "CLI: stepback patient add"),
    ("tests/hardening/test_hardening_cli.py::test_assess", "CLI: stepback assess"),
)

COUNTER_PLUGIN = "stepback-hypothesis-inputs"
#: Executed test cases (passing + failing; not ``assume``-rejected) per surface.
INPUTS: Counter[str] = Counter()
#: Which test functions contributed to each surface.
SOURCES: defaultdict[str, set[str]] = defaultdict(set)


def surface_of(nodeid: str) -> str:
    """The input surface a test's node id belongs to (the test file when not listed)."""
    for prefix, name in SURFACES:
        if nodeid.startswith(prefix):
            return name
    return nodeid.split("::")[0]


def executed_cases(stats: dict) -> int:
    """Test cases that ran the test body, over every phase of one Hypothesis run."""
    total = 0
    for key, phase in stats.items():
        if key.endswith("-phase") and isinstance(phase, dict):
            total += sum(1 for case in phase.get("test-cases", ()) if case.get("status") in ("valid", "interesting"))
    return total


class HypothesisInputCounter:
    """A plugin (not a conftest hook, which pytest would call only for tests in this folder)."""

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item):
        """Innermost around each test: note Hypothesis's statistics, then pass them on."""
        outer = collector.value  # the hypothesis pytest plugin's own collector, if any

        def note(stats) -> None:
            surface = surface_of(item.nodeid)
            INPUTS[surface] += executed_cases(stats)
            SOURCES[surface].add(item.nodeid.split("::")[0])
            if outer is not None:
                outer(stats)

        with collector.with_value(note):
            yield


def pytest_configure(config):
    """Count Hypothesis inputs in every test of the session, not only this folder's."""
    if not config.pluginmanager.has_plugin(COUNTER_PLUGIN):
        config.pluginmanager.register(HypothesisInputCounter(), COUNTER_PLUGIN)


def pytest_terminal_summary(terminalreporter):
    """Print the hardening figures and the number of Hypothesis inputs tried per input surface."""
    if REPORT_LINES:
        terminalreporter.section("hardening figures")
        for line in REPORT_LINES:
            terminalreporter.write_line(line)
    if not INPUTS:
        return
    terminalreporter.section("hypothesis inputs per input surface")
    for surface, count in sorted(INPUTS.items()):
        files = ", ".join(sorted(SOURCES[surface]))
        terminalreporter.write_line(f"{surface:<36} {count:>6} inputs ({files})")
    terminalreporter.write_line(f"{'total':<36} {sum(INPUTS.values()):>6} inputs")
