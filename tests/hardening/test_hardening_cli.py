"""Random command lines for `stepback score`, `patient add` and `assess`.

Property, for every argv Hypothesis builds from each command's real options
(valid, edge and junk values, unknown options, repeated and missing ones):
``cli.main`` returns 0 or 2 and raises nothing (``-h`` may exit 0 as argparse
does); on 2 it prints one line on stderr and nothing on stdout, and no table
but the audit log changed; on 0 exactly the rows the command promises were
added. The commands run in-process against a temporary SQLite file.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import cli
from assessment import POPULATION_IDS
from records import Database
from records import services as svc

from hardening_support import add_patients, make_db

EXAMPLES = 200
#: Fresh MRNs for complete `patient add` lines (Hypothesis would keep drawing the same small number).
FRESH = itertools.count()

# --------------------------------------------------------------------------- values

#: Any text a shell can pass (no NUL, no lone surrogate), short.
junk = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24)

edge_numbers = st.sampled_from([
    "", " ", "0", "-0", "-1", "1", "2", "2+", "3", "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "1e-309",
    "5,5", "5.", ".5", " 5 ", "5s", "0x10", "1_000", "١٢", "１２", "½", "12.000000000000001", "120", "120.0001",
    "0.9999", "18", "17", "121", "14", "15", "0.5", "0.0", "1.0", "99999999999999999999999",
])
numbers = st.one_of(
    edge_numbers,
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.floats(min_value=0.5, max_value=130).map(lambda x: f"{x:.2f}"),
    junk,
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "today", "2024-02-30", "2024-13-01", "2024/01/01", "01-02-2024", "1899-12-31",
                     "9999-12-31", "2024-3-4", " 1950-01-01", "1950-01-01T00:00", "19500101"]),
    junk,
)


def choices(*allowed: str):
    """One of the allowed words, a case or spacing variant, or junk."""
    known = list(allowed)
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(known).map(str.upper),
        st.sampled_from(known).map(lambda s: f" {s} "),
        junk,
    )


def decimal(lo: float, hi: float):
    return st.floats(min_value=lo, max_value=hi).map(lambda x: f"{x:.2f}")


def whole(lo: int, hi: int):
    return st.integers(lo, hi).map(str)


#: Each option's values as (plausible, anything): a clean command line draws only the
#: first, so enough commands succeed to check what they write; a dirty one draws both.
SEXES = (st.sampled_from(["female", "male"]), choices("female", "male", "unknown", "f", "m"))
POPULATIONS = (st.sampled_from(POPULATION_IDS), choices(*POPULATION_IDS))
SECONDS = (decimal(1, 120), numbers)
NAMES = (st.sampled_from(["Ana", "Zoë", "Łukasz", "Σοφία", "李", "=1+1", "O'Brien", "Anne-Marie"]),
         st.one_of(junk, st.sampled_from([" ", ""]), st.text(min_size=190, max_size=210, alphabet="ab")))
MRNS = (st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,11}", fullmatch=True),
        st.one_of(st.sampled_from(["P0", "NOPE", "", " P0", "P0 ", "a" * 64, "a" * 65, "M 1", "M\t1"]), junk))
CLINICIANS = (st.sampled_from(["alice", "bob.smith@clinic"]), junk)

RISK_OPTIONS = {
    "--prior-falls": (st.sampled_from(["0", "1", "2+", "2", "5"]), numbers),
    "--walking-aid": (st.sampled_from(["yes", "no"]), choices("yes", "no", "true", "false", "1", "0", "y")),
    "--stay-independent": (whole(0, 14), numbers),
    "--tug": (decimal(1, 60), numbers),
    "--chair-stand": (whole(0, 40), numbers),
    "--tandem": (decimal(0, 30), numbers),
    "--base-rate": (st.floats(0.01, 0.99).map(lambda x: f"{x:.3f}"), numbers),
}

#: Tokens that are not options of the commands (some look like them).
stray = st.sampled_from(["--bogus", "-x", "extra", "--", "-h", "--trial=", "--age=70", "-", "--json=1", "--sex"])


def argv_from(options: dict, flags: tuple[str, ...] = ()):
    """Command lines from ``options`` (name -> (plausible, anything)) and ``flags``.

    Half are clean (plausible values only, no strays), half dirty (any value,
    unknown options, help); options repeat and come in any order.
    """

    def pairs(pick: int):
        return st.sampled_from(sorted(options)).flatmap(lambda name: options[name][pick].map(lambda v: [name, v]))

    flag = [st.sampled_from(flags).map(lambda f: [f])] if flags else []
    clean = st.lists(st.one_of(pairs(0), pairs(0), pairs(0), *flag), max_size=8)
    dirty = st.lists(st.one_of(pairs(0), pairs(1), pairs(1), *flag, stray.map(lambda s: [s])), max_size=12)
    return st.one_of(clean, dirty).map(lambda parts: [token for part in parts for token in part])


# --------------------------------------------------------------------------- the store


@pytest.fixture(scope="module")
def store():
    """A SQLite file with patients P0–P2 and the shipped model registered (by one real `assess`)."""
    with tempfile.TemporaryDirectory(prefix="stepback-cli-fuzz-") as tmp, pytest.MonkeyPatch.context() as mp:
        mp.delenv("STEPBACK_DATABASE_URL", raising=False)
        mp.setenv("STEPBACK_CLINICIAN", "fuzzer")
        root = Path(tmp)
        path = root / "cli.sqlite3"
        db = make_db(path)
        add_patients(db, 3)
        (root / "good.csv").write_text("age,sex,trial_1,trial_2\n78,female,5.2,5.6\n70,male,3.0,\n")
        (root / "bad.csv").write_text("age,sex,trial_1\n78,female,0.1\n")
        code, _, err = invoke(root, ["assess", "--db", str(path), "--mrn", "P0", "--trial", "5", "--date", "2024-03-04"])
        assert code == 0, err
        yield root, path, db
        db.dispose()


def counts(db: Database) -> dict[str, int]:
    """Rows per table, the audit log left out (a rejected action is audited on purpose)."""
    return {table: n for table, n in svc.count_rows(db).items() if table != "audit_log"}


def invoke(workdir: Path, argv: list[str]) -> tuple[int, str, str]:
    """``cli.main(argv)`` in ``workdir``; returns (exit code, stdout, stderr).

    argparse's ``-h`` ends in ``SystemExit(0)`` (the console script exits 0): returned as
    code ``"help"``. Any other exception propagates and fails the test.
    """
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(workdir)  # a stray relative path can only land in the temporary folder
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exit_:
                assert exit_.code == 0 and any(a in ("-h", "--help") for a in argv), (argv, exit_.code)
                code = "help"
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def check_rejection_or_success(argv, code, out, err, before, after) -> bool:
    """The shared contract; returns True when the command succeeded (exit 0)."""
    if code == "help":
        assert after == before
        return False
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and lines[0].startswith("stepback") and "error:" in lines[0], (argv, err)
        if not any(LINE_BREAKS & set(a) for a in argv):  # see test_a_line_break_in_argv_still_gives_one_line
            assert len(lines) == 1, (argv, err)
        assert out == "", (argv, out)
        assert after == before, (argv, err)
        return False
    return True


def _trials(argv: list[str]) -> list[str]:
    """The --trial values on the command line (--trial appends: every one counts)."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--trial"]


#: Characters str.splitlines breaks at.
LINE_BREAKS = set("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# --------------------------------------------------------------------------- score

score_argv = argv_from(
    {"--age": (whole(18, 120), numbers), "--sex": SEXES, "--population": POPULATIONS, "--trial": SECONDS,
     "--previous": SECONDS,
     "--csv": (st.just("good.csv"), st.sampled_from(["bad.csv", "missing.csv", ""])),
     "--out": (st.just("out.csv"), st.just("")),
     **RISK_OPTIONS},
    flags=("--json", "--db"),
)


@SETTINGS
@given(argv=score_argv, complete=st.booleans())
def test_score_never_crashes_and_rejects_in_one_line(store, argv, complete):
    root, path, db = store
    if complete:
        argv = ["--age", "78", "--sex", "female", "--trial", "5.5", *argv]
    argv = _with_db_values(["score", *argv], path)
    before = counts(db)
    code, out, err = invoke(root, argv)
    event(f"exit {code}")
    after = counts(db)
    if check_rejection_or_success(argv, code, out, err, before, after):
        assert after == before  # scoring stores nothing (the shipped model is already registered)
        if "--json" in argv and "--csv" not in argv:
            result = json.loads(out)
            assert result["valid_trials"] == len(_trials(argv))
            assert 1 <= result["mean_seconds"] <= 120


def _with_db_values(argv: list[str], path: Path) -> list[str]:
    """``--db`` drawn as a flag gets the store's path as its value."""
    out: list[str] = []
    for token in argv:
        out.append(token)
        if token == "--db":
            out.append(str(path))
    return out


# --------------------------------------------------------------------------- patient add

patient_argv = argv_from(
    {"--mrn": MRNS, "--given": NAMES, "--family": NAMES, "--sex": SEXES,
     "--birth-date": (st.dates(date(1906, 1, 1), date(2004, 1, 1)).map(date.isoformat), dates),
     "--population": POPULATIONS, "--clinician": CLINICIANS},
)


@SETTINGS
@given(argv=patient_argv, complete=st.booleans())
def test_patient_add_never_crashes_and_writes_all_or_nothing(store, argv, complete):
    root, path, db = store
    if complete:  # every required option present, so the values decide (fresh MRN: not a duplicate)
        argv = ["--mrn", f"F{next(FRESH)}", "--given", "Ana", "--family", "Ruiz", "--birth-date", "1950-01-01",
                "--sex", "female", *argv]
    argv = ["patient", "add", "--db", str(path), *argv]
    before = counts(db)
    code, out, err = invoke(root, argv)
    event(f"exit {code}")
    after = counts(db)
    if check_rejection_or_success(argv, code, out, err, before, after):
        assert out.startswith("Added patient ")
        assert after == {**before, "patients": before["patients"] + 1}, argv


# --------------------------------------------------------------------------- assess

assess_argv = argv_from(
    {"--mrn": (st.sampled_from(["P0", "P1", "P2"]), MRNS[1]), "--trial": SECONDS,
     "--start": (st.sampled_from(["standing", "rolling"]), choices("standing", "rolling")),
     "--date": (st.dates(date(1990, 1, 1), date.today()).map(date.isoformat), dates),
     "--clinician": CLINICIANS, **RISK_OPTIONS},
    flags=("--json",),
)


@SETTINGS
@given(argv=assess_argv, complete=st.booleans())
def test_assess_never_crashes_and_writes_all_or_nothing(store, argv, complete):
    root, path, db = store
    if complete:
        argv = ["--mrn", "P1", "--trial", "6.5", *argv]
    argv = ["assess", "--db", str(path), *argv]
    before = counts(db)
    code, out, err = invoke(root, argv)
    event(f"exit {code}")
    after = counts(db)
    if check_rejection_or_success(argv, code, out, err, before, after):
        trials = len(_trials(argv))
        assert after["assessments"] == before["assessments"] + 1, argv
        assert after["trials"] == before["trials"] + trials, argv
        if "--json" in argv:
            assert json.loads(out)["valid_trials"] == trials


# --------------------------------------------------------------------------- a fresh database


def test_a_rejected_assess_on_a_fresh_database_writes_nothing(tmp_path, capsys):
    db = make_db(tmp_path / "fresh.sqlite3")
    add_patients(db, 1)
    before = counts(db)
    code = cli.main(["assess", "--db", str(tmp_path / "fresh.sqlite3"), "--mrn", "P0", "--trial", "0.1"])
    _, err = capsys.readouterr()
    assert code == 2 and "trial_1" in err
    assert counts(db) == before


def test_a_line_break_in_argv_still_gives_one_line(capsys):
    code = cli.main(["score", "--age", "78", "--trial", "5", "stray\rtoken"])
    _, err = capsys.readouterr()
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
