"""Ten thousand generated command lines per command, in-process, with a fixed seed.

For each of `score`, `assess`, `patient`, `import`, `restore`, `report` and
values of `--db`, a seeded generator (``random.Random``) starts from valid
command lines and breaks them: bit flips, Unicode digits (``²``, ``٥``,
``１２``), huge numbers, long names, bytes that are not UTF-8, odd paths
(directories, ``/dev/null``, ``/dev/zero``, a missing folder, a symlink),
missing, repeated and stray arguments, database URLs of drivers that are not
installed or servers that do not answer, damaged CSV, FHIR and backup files.

Every input runs ``cli.main(argv)`` in this process with stdout and stderr
as the console script has them (UTF-8; strict on stdout, backslashreplace on
stderr). The contract, checked on every input:

- no exception escapes (``-h`` may exit 0, as argparse does);
- the exit code is 0 or 2;
- on 2: nothing on stdout, exactly one line on stderr,
  ``stepback…: error: FIELD: why``, and the database row-identical (every
  table's rows but the audit log's, which records refusals on purpose:
  SQLite's ``data_version`` tells whether anything was committed at all,
  and a digest of the rows compares them when it was), and no file left
  in the working folder.

The store lives in RAM (``/dev/shm`` when there is one), so 70,000 commands
fit the CI budget; the figures (inputs, refusals, successes, seconds) are
printed in pytest's terminal summary.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import sqlite3
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest

import cli
from assessment.program import SAFETY_SCREEN_KEYS

from hardening_support import REPORT_LINES, add_patients, make_db

#: Generated inputs per command (the issue asks for at least 10,000).
INPUTS = int(os.environ.get("STEPBACK_FUZZ_INPUTS", "10000"))
SEED = 20261201

#: ``stepback: error: FIELD: why`` or ``stepback report: error: argument --x: why`` (argparse).
ONE_LINE = re.compile(r"^stepback(?: [a-z-]+)*: error: (?P<field>[^:\n]{1,200}?): .")

# --------------------------------------------------------------------------- values

DIGIT_SETS = ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹", "₀₁₂₃₄₅₆₇₈₉", "०१२३४५६७८९", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗")
WEIRD = [
    "", " ", "-", "--", "²", "٥", "１２", "½", "Ⅻ", "1_0", "0x10", "1e309", "nan", "NaN", "-inf", "Infinity", "-0",
    "0", "5,5", "5.", ".5", "+5", " 5 ", "5s", "9" * 4300, "9" * 30, "-" + "9" * 25, "1e-400",
    "\udcff", "\udce9t\udcc3", "a\nb", "a\rb", "\u2028", "\x1b[31mred", "'; DROP TABLE patients;--", "=1+1",
    "<script>alert(1)</script>", "![x](http://host/t.png)", "%s%n", "{}", "null", "🙂", "a" * 300, "é" * 5000,
    "~", "..", "/", "/dev/null", "/dev/full", "/dev/zero", "/proc/self/mem", "\t", "yes", "no", "2+", "3+",
    "standing", "rolling", "female", "male", "community", "patient", "clinician", "1950-01-01", "2024-02-30",
    "9999-12-31", "0000-00-00", "2024-01-01T00:00", "P0", "P1", "NOPE", "a/b", "../x", "\u202ePDF.exe",
]
#: Absolute paths the inputs may name as they are; any other is moved under the working folder (see ``contained``).
SYSTEM_PATHS = ("/", "/dev/null", "/dev/full", "/dev/zero", "/proc/self/mem")
ODD_PATHS = ["", ".", "..", *SYSTEM_PATHS, "missing/dir/f", "a" * 300, "dir", "link", "dangling", "~/nope/f",
             "x" * 5000, "\udcff.csv", "file\nname", "dir/", "./link/x"]
STRAY = ["--bogus", "-x", "extra", "--", "-h", "--json=1", "--db", "--create", "--trial", "--mrn", "-", "--help"]


def mutate_text(rng: random.Random, text: str) -> str:
    """One random change to ``text``: a bit flip, Unicode digits, a cut, a repeat, junk, or a weird value."""
    kind = rng.randrange(9)
    if kind == 0 and text:  # flip one bit of one byte; bytes that are no longer UTF-8 arrive as surrogates (os.fsdecode)
        data = bytearray(text.encode("utf-8", "surrogateescape"))
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data).replace(b"\x00", b"0").decode("utf-8", "surrogateescape")
    if kind == 1:
        digits = rng.choice(DIGIT_SETS)
        return "".join(digits[int(c)] if c.isdigit() and c.isascii() and rng.random() < 0.7 else c for c in text) \
            or digits[5]
    if kind == 2 and text:
        return text[: rng.randrange(len(text))]
    if kind == 3:
        return text * rng.choice((2, 3, 50))
    if kind == 4:
        return text + rng.choice(["x", " ", "\u00a0", "0" * 400, ".5", "e9", "\udcff", "\n"])
    if kind == 5:
        return rng.choice(["-", "+", " ", "0", "١"]) + text
    if kind == 6:
        return str(rng.choice([-1, 0, 10 ** rng.randrange(1, 400), -(10 ** rng.randrange(1, 40)), 2 ** 63]))
    return rng.choice(WEIRD)


def mutate_argv(rng: random.Random, argv: list[str], head: int) -> list[str]:
    """One to three changes to a valid command line (its first ``head`` tokens name the command)."""
    argv = list(argv)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        body = len(argv) - head
        kind = rng.randrange(10)
        if kind <= 4 and body:  # a value or an option changed
            i = head + rng.randrange(body)
            argv[i] = mutate_text(rng, argv[i])
        elif kind == 5 and body:  # a token dropped (an option's value, a required option ...)
            del argv[head + rng.randrange(body)]
        elif kind == 6 and body:  # a token repeated
            i = head + rng.randrange(body)
            argv.insert(i, argv[i])
        elif kind == 7:
            argv.insert(rng.randrange(head, len(argv) + 1), rng.choice(STRAY if rng.random() < 0.9 else WEIRD))
        elif kind == 8 and body >= 2:  # two tokens swapped
            i, j = rng.sample(range(head, len(argv)), 2)
            argv[i], argv[j] = argv[j], argv[i]
        else:  # a value replaced by an odd path or a weird value
            if body:
                argv[head + rng.randrange(body)] = rng.choice(ODD_PATHS if rng.random() < 0.5 else WEIRD)
    return [a for a in argv if a != "-h" and a != "--help"] if rng.random() < 0.98 else argv


def contained(argv: list[str], root: Path) -> list[str]:
    """``argv`` with every path that could write outside the working folder moved into it.

    A generated ``--out`` or ``--db --create`` may succeed: a bit-flipped
    ``/dev/null`` or ``~/x`` must not make files elsewhere on the machine.
    """
    inside = str(root)
    out = []
    for token in argv:
        if token.startswith("~"):
            token = inside + "/home" + token[1:]
        elif token.startswith("/") and token not in SYSTEM_PATHS and not token.startswith(inside + "/"):
            token = inside + "/abs" + token
        elif "://" in token and token[:6].lower().startswith("sqlite") and inside not in token:
            token = "sqlite:///" + inside + "/abs/" + token.split("://", 1)[1].lstrip("/")
        out.append(token)
    return out


# --------------------------------------------------------------------------- the harness


class Console:
    """stdout and stderr as the console script has them: UTF-8, strict on stdout, backslashreplace on stderr."""

    def __init__(self) -> None:
        self.out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="\n")
        self.err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", newline="\n")

    @staticmethod
    def text(stream: io.TextIOWrapper) -> str:
        stream.flush()
        return stream.buffer.getvalue().decode("utf-8", "replace")


class Store:
    """A SQLite store with three patients, one final assessment each, and what it checks after each command."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "store.sqlite3"
        db = make_db(self.path)
        add_patients(db, 3)
        db.dispose()
        for i, mrn in enumerate(("P0", "P1", "P2")):  # assessed today: not yet due, so `report --due` prints none
            self.command(["assess", "--db", str(self.path), "--mrn", mrn, "--trial", f"{5 + i}.5"], expect=0)
        (root / "dir").mkdir()
        (root / "home" / "stepback").mkdir(parents=True)  # the user data directory (XDG_DATA_HOME, see the fixture)
        (root / "link").symlink_to(self.path)
        (root / "dangling").symlink_to(root / "gone")
        self.checker = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
        self.version = self._data_version()
        self.digest = self._digest()
        self.listing = self._listing()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        self.inputs = 0

    # --- what is compared
    def _data_version(self) -> int:
        return self.checker.execute("PRAGMA data_version").fetchone()[0]

    def _digest(self) -> str:
        """SHA-256 of every row of every table but the audit log."""
        digest = hashlib.sha256()
        tables = [r[0] for r in self.checker.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for table in tables:
            if table == "audit_log":
                continue
            rows = sorted(repr(r) for r in self.checker.execute(f'SELECT * FROM "{table}"'))
            digest.update(f"{table}:{len(rows)}\n".encode())
            for row in rows:
                digest.update(row.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def _listing(self) -> frozenset[str]:
        """Every file under the working folder (names and sizes; the store's own files left out)."""
        found = set()
        for folder, dirs, files in os.walk(self.root):
            for name in files + dirs:
                rel = os.path.relpath(os.path.join(folder, name), self.root)
                if not rel.startswith("store.sqlite3"):
                    found.add(rel)
        return frozenset(found)

    # --- one command
    def command(self, argv: list[str], expect: int | None = None) -> tuple[int | str, str, str]:
        """Run ``cli.main(argv)`` in the working folder; returns (exit code or "crash"/"help", stdout, stderr)."""
        console = Console()
        here = os.getcwd()
        os.chdir(self.root)
        try:
            with contextlib.redirect_stdout(console.out), contextlib.redirect_stderr(console.err):
                try:
                    code = cli.main(argv)
                except SystemExit as exit_:
                    code = "help" if exit_.code == 0 and ("-h" in argv or "--help" in argv) else f"exit {exit_.code}"
                except BaseException:  # noqa: BLE001 - a traceback is what the test looks for
                    code = "crash"
                    print(traceback.format_exc(limit=-3), file=console.err)
        finally:
            os.chdir(here)
        out, err = Console.text(console.out), Console.text(console.err)
        if expect is not None:
            assert code == expect, (argv, code, err)
        return code, out, err

    def check(self, argv: list[str]) -> None:
        """Run one generated input and check the contract; a broken contract is kept in ``failures``."""
        self.inputs += 1
        self.listing = self._listing()  # the generator may have written the input file
        code, out, err = self.command(argv)
        problem = None
        if code == "help":
            self.outcomes["help"] += 1
        elif code == 0:
            self.outcomes["ok"] += 1
        elif code == 2:
            lines = err.splitlines()
            match = ONE_LINE.match(lines[0]) if len(lines) == 1 else None
            if match is None:
                problem = f"not one 'stepback: error: FIELD: why' line: {err[:400]!r}"
            elif out:
                problem = f"refused but printed on stdout: {out[:200]!r}"
            else:
                field = match.group("field")
                self.outcomes["refused: " + (field if len(field) < 40 else field[:37] + "...")] += 1
        else:
            problem = f"exit {code!r}: {err[-1500:]}"
        version = self._data_version()
        if version != self.version:
            digest = self._digest()
            if code != 0 and digest != self.digest and problem is None:
                problem = "refused, but the database changed"
            self.version, self.digest = version, digest
        listing = self._listing()
        if listing != self.listing:
            if code != 0 and problem is None:
                problem = f"refused, but left files behind: {sorted(listing ^ self.listing)[:5]}"
            self.listing = listing
        if problem and len(self.failures) < 25:
            self.failures.append(f"{[a[:80] for a in argv]}\n    {problem}")
        elif problem:
            self.failures.append("...")

    def close(self) -> None:
        self.checker.close()


def _scratch_parent() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@pytest.fixture
def store(monkeypatch):
    monkeypatch.delenv("STEPBACK_DATABASE_URL", raising=False)
    monkeypatch.setenv("STEPBACK_CLINICIAN", "fuzzer")
    with tempfile.TemporaryDirectory(prefix="stepback-fuzz-", dir=_scratch_parent()) as tmp:
        monkeypatch.setenv("XDG_DATA_HOME", str(Path(tmp) / "home"))  # a line without --db uses its own default
        box = Store(Path(tmp))
        yield box
        box.close()


def fuzz(store: Store, command: str, generate, count: int = INPUTS) -> None:
    """Run ``count`` inputs from ``generate(rng, i)``, report the figures, fail on any broken contract."""
    rng = random.Random(f"{SEED}-{command}")
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        store.check(contained(generate(rng, i), store.root))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    refused = sum(n for k, n in store.outcomes.items() if k.startswith("refused"))
    fields = len([k for k in store.outcomes if k.startswith("refused")])
    REPORT_LINES.append(f"fuzz {command:<8} {store.inputs:>6} inputs in {seconds:5.1f} s ({cpu:5.1f} s CPU): "
                        f"{store.outcomes['ok']} ran, "
                        f"{refused} refused in one line ({fields} distinct fields), {store.outcomes['help']} help, "
                        f"{len(store.failures)} broken")
    assert store.inputs >= count
    assert not store.failures, f"{len(store.failures)} inputs broke the contract:\n" + "\n".join(store.failures[:25])
    assert store.outcomes["ok"] > 0 and refused > count // 2, store.outcomes  # both paths were exercised


# --------------------------------------------------------------------------- the commands

RISK = {"--prior-falls": ["0", "1", "2+"], "--walking-aid": ["yes", "no"], "--stay-independent": ["0", "4", "14"],
        "--tug": ["8.5", "13", "20"], "--chair-stand": ["5", "12"], "--tandem": ["3", "10"], "--base-rate": ["0.3"]}
SCREEN = [f"{key}=no" for key in SAFETY_SCREEN_KEYS]


def risk_options(rng: random.Random) -> list[str]:
    argv: list[str] = []
    for name in rng.sample(sorted(RISK), rng.randrange(0, 4)):
        argv += [name, rng.choice(RISK[name])]
    if rng.random() < 0.15:
        argv += [token for answer in SCREEN for token in ("--screen", answer)]
    return argv


def trials(rng: random.Random) -> list[str]:
    return [token for _ in range(rng.choice((1, 1, 2, 3))) for token in ("--trial", f"{rng.uniform(2, 40):.2f}")]


def maybe_mutated(rng: random.Random, argv: list[str], head: int, clean: float) -> list[str]:
    """``argv`` as it is (share ``clean``: these succeed) or broken (:func:`mutate_argv`)."""
    return argv if rng.random() < clean else mutate_argv(rng, argv, head)


def test_score(store):
    def generate(rng, i):
        if rng.random() < 0.1:
            argv = ["score", "--csv", "good.csv", "--out", "scored.csv"]
        else:
            argv = ["score", "--age", str(rng.randrange(18, 121)), "--sex", rng.choice(["female", "male"]),
                    *trials(rng), *risk_options(rng)]
            if rng.random() < 0.3:
                argv += ["--population", rng.choice(["community", "nursing_home", "parkinsons", "stroke"])]
            if rng.random() < 0.2:
                argv += ["--previous", f"{rng.uniform(2, 40):.2f}"]
            if rng.random() < 0.3:
                argv += ["--json"]
            if rng.random() < 0.2:
                argv += ["--db", str(store.path)]
        return maybe_mutated(rng, argv, 1, clean=0.05)

    (store.root / "good.csv").write_text("age,sex,trial_1,trial_2\n78,female,5.2,5.6\n70,male,3.0,\n", "utf-8")
    fuzz(store, "score", generate)


def test_assess(store):
    def generate(rng, i):
        argv = ["assess", "--db", str(store.path), "--mrn", rng.choice(["P0", "P1", "P2"]), *trials(rng),
                *risk_options(rng)]
        if rng.random() < 0.5:
            argv += ["--date", f"20{rng.randrange(10, 25)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"]
        if rng.random() < 0.3:
            argv += ["--start", rng.choice(["standing", "rolling"])]
        if rng.random() < 0.2:
            argv += ["--json"]
        return maybe_mutated(rng, argv, 1, clean=0.015)

    fuzz(store, "assess", generate)


def test_patient(store):
    names = ["Ana", "Zoë", "Łukasz", "Σοφία", "李", "O'Brien", "Anne-Marie", "=1+1", "![x](http://h/t.png)"]

    def generate(rng, i):
        if rng.random() < 0.3:
            argv = ["patient", "list", "--db", str(store.path)]
            if rng.random() < 0.5:
                argv += ["--search", rng.choice(["P", "Soak", "Given1", "%", "_"])]
            if rng.random() < 0.3:
                argv += ["--limit", str(rng.randrange(0, 200))]
            if rng.random() < 0.3:
                argv += ["--json"]
        else:
            argv = ["patient", "add", "--db", str(store.path), "--mrn", f"F{i}", "--given", rng.choice(names),
                    "--family", rng.choice(names), "--birth-date",
                    f"19{rng.randrange(10, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                    "--sex", rng.choice(["female", "male"])]
            if rng.random() < 0.4:
                argv += ["--population", rng.choice(["community", "nursing_home", "parkinsons"])]
            if rng.random() < 0.3:
                argv += ["--language", rng.choice(["en", "es", "zh-Hans"])]
        return maybe_mutated(rng, argv, 2, clean=0.05)

    fuzz(store, "patient", generate)


def _mutate_csv(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    kind = 7 if rng.random() < 0.05 else rng.randrange(7)  # a row with a new MRN (7): one in twenty
    if kind <= 2 and len(lines) > 1:  # one cell changed
        row = rng.randrange(1, len(lines))
        cells = lines[row].split(",")
        cell = rng.randrange(len(cells))
        cells[cell] = mutate_text(rng, cells[cell]).replace("\n", " ")
        lines[row] = ",".join(cells)
    elif kind == 3 and len(lines) > 1:  # a ragged row: a cell more or fewer
        row = rng.randrange(1, len(lines))
        lines[row] = lines[row] + ",extra" if rng.random() < 0.5 else lines[row].rsplit(",", 1)[0]
    elif kind == 4:  # the header changed
        lines[0] = mutate_text(rng, lines[0])
    elif kind == 5:  # bytes flipped anywhere
        data = bytearray(text.encode("utf-8"))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data).decode("utf-8", "surrogateescape")
    elif kind == 6:  # rows dropped, repeated or cut off
        return "\n".join(lines[: rng.randrange(len(lines) + 1)] + lines[1:rng.randrange(1, len(lines) + 1)])
    else:  # a row whose MRN is new (a patient the import may add), another value broken or not
        row = rng.randrange(1, len(lines))
        lines.append(lines[row].replace("P", f"N{rng.randrange(10 ** 6)}x", 1))
    return "\n".join(lines) + "\n"


def test_import(store):
    assert store.command(["export", "--db", str(store.path), "--csv", "export.csv"])[0] == 0
    assert store.command(["export", "--db", str(store.path), "--fhir-bulk", "--out-dir", "bulk"])[0] == 0
    csv_text = (store.root / "export.csv").read_text("utf-8-sig")
    fhir_text = (store.root / "bulk" / "Patient.ndjson").read_text("utf-8")

    def generate(rng, i):
        fhir = rng.random() < 0.25
        base = fhir_text if fhir else csv_text
        if rng.random() < 0.04:
            content = base  # the same rows again: exit 0, nothing added
        elif fhir:
            content = mutate_text(rng, base) if rng.random() < 0.5 else _mutate_json_lines(rng, base)
        else:
            content = _mutate_csv(rng, base)
        name = "in.ndjson" if fhir else "in.csv"
        data = content.encode("utf-8", "surrogateescape")
        if rng.random() < 0.05:
            data = rng.choice([b"", b"\xef\xbb\xbf", content.encode("utf-16", "surrogatepass"), b"\x00" * 64, os.urandom(64)])
        (store.root / name).write_bytes(data)
        argv = ["import", "--db", str(store.path), "--fhir" if fhir else "--csv", name]
        return argv if rng.random() < 0.8 else mutate_argv(rng, argv, 1)

    fuzz(store, "import", generate)


def _mutate_json_lines(rng: random.Random, text: str) -> str:
    """One FHIR Patient line with one value replaced (a string, a number, null, a list ...)."""
    lines = text.splitlines()
    row = rng.randrange(len(lines))
    resource = json.loads(lines[row])
    key = rng.choice(sorted(resource))
    resource[key] = rng.choice([None, 5, -1, 10 ** 30, "", [], {}, "x" * 5000, mutate_text(rng, json.dumps(resource[key]))])
    lines[row] = json.dumps(resource, ensure_ascii=rng.random() < 0.5)
    return "\n".join(lines) + "\n"


def test_restore(store):
    assert store.command(["backup", "--db", str(store.path), "--out", "good.bak"])[0] == 0
    good = (store.root / "good.bak").read_bytes()
    for name, sql in (("trigger.bak", "CREATE TRIGGER t AFTER INSERT ON audit_log BEGIN DELETE FROM audit_log; END"),
                      ("view.bak", "CREATE VIEW v AS SELECT 1"), ("extra.bak", "CREATE TABLE extra (x)")):
        (store.root / name).write_bytes(good)
        with contextlib.closing(sqlite3.connect(store.root / name)) as connection:
            connection.execute(sql)
            connection.commit()
    with contextlib.closing(sqlite3.connect(store.root / "other.bak")) as connection:
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
    page = 4096

    def generate(rng, i):
        kind = rng.random()
        target = "in.bak"
        if kind < 0.55:  # bits flipped: in the file header, in b-tree page headers, or anywhere
            data = bytearray(good)
            where = rng.random()
            for _ in range(rng.choice((1, 2, 3, 6))):
                if where < 0.25:
                    at = rng.randrange(100)
                elif where < 0.9:
                    at = page * rng.randrange(1, len(data) // page) + rng.randrange(12)
                else:
                    at = rng.randrange(len(data))
                data[at] ^= 1 << rng.randrange(8)
            (store.root / target).write_bytes(bytes(data))
        elif kind < 0.7:  # cut short, or junk after it
            data = good[: rng.randrange(len(good))] if rng.random() < 0.6 else good + os.urandom(rng.randrange(1, 9000))
            (store.root / target).write_bytes(data)
        elif kind < 0.72:
            target = "good.bak"  # the real backup: restored (exit 0)
        else:
            target = rng.choice(["trigger.bak", "view.bak", "extra.bak", "other.bak", "export.csv", "missing.bak",
                                 "dir", "link", "dangling", "/dev/null", "/dev/zero", "", "store.sqlite3"])
        argv = ["restore", target, "--db", str(store.path)]
        return argv if rng.random() < 0.75 else mutate_argv(rng, argv, 1)

    (store.root / "export.csv").write_text("mrn,given_name\nP0,Ana\n", "utf-8")
    fuzz(store, "restore", generate)


def test_report(store):
    def generate(rng, i):
        kind = rng.random()
        if kind < 0.6:
            argv = ["report", "--db", str(store.path), "--mrn", rng.choice(["P0", "P1", "P2"]),
                    "--kind", rng.choice(["patient", "clinician"]), "--out", rng.choice(["r.pdf", "dir/r.pdf"])]
            if rng.random() < 0.3:
                argv += ["--assessment", str(rng.randrange(1, 5))]
            clean = 0.006
        else:
            argv = ["report", "--db", str(store.path), "--out-dir", rng.choice(["batch", "dir"]),
                    "--workers", str(rng.choice((1, 2)))]
            argv += ["--due"] if rng.random() < 0.5 else ["--from", "2020-01-01", "--to", "2020-12-31"]
            if rng.random() < 0.3:
                argv += ["--kind", rng.choice(["patient", "clinician"])]
            clean = 0.05
        if rng.random() < 0.2:
            argv += ["--language", rng.choice(["en", "es", "zh-Hans"])]
        if rng.random() < 0.2:
            argv += ["--clinic", rng.choice(["Riverside", "Clínica Ñ", "=cmd|' /C calc'!A0"])]
        return maybe_mutated(rng, argv, 1, clean)

    fuzz(store, "report", generate)


#: Database URLs of drivers that are not installed, servers that do not answer, and what is not a URL.
URLS = ["mysql://u@127.0.0.1/x", "mysql+pymysql://u@127.0.0.1/x", "oracle://u@127.0.0.1/x", "mssql://127.0.0.1/x",
        "postgresql://u@127.0.0.1:1/x", "postgresql+asyncpg://u@127.0.0.1:1/x", "sqlite+pysqlcipher:///x.db",
        "http://127.0.0.1/x", "://", "sqlite://", "sqlite:///", "sqlite:////", "redis://127.0.0.1:1/0",
        "postgresql+psycopg://u:p@127.0.0.1:1/x", "postgresql+psycopg://u:p@[::1]:1/x", "postgresql+psycopg://:@:/",
        "postgresql+psycopg://u:p@127.0.0.1:99999/x", "nosuchdriver://x", "sqlite:///dir", "sqlite:///export.csv",
        "SQLITE:///store.sqlite3", "sqlite:///store.sqlite3?mode=ro", "sqlite:///file:store.sqlite3?uri=true"]


def test_db_values(store):
    commands = [["patient", "list"], ["patient", "list"], ["user", "list"], ["model", "list"], ["clinic", "show"],
                ["assess", "--mrn", "P0", "--trial", "5"], ["history", "--mrn", "P0"],
                ["score", "--age", "70", "--trial", "5"], ["report", "--due", "--out-dir", "due"],
                ["restore", "good.bak"], ["export", "--csv", "e.csv"], ["import", "--csv", "export.csv"]]

    def value(rng, i):
        kind = rng.random()
        if kind < 0.15:
            return str(store.path) if rng.random() < 0.5 else f"sqlite:///{store.path}"
        if kind < 0.35:
            return rng.choice(URLS)
        if kind < 0.55:
            return rng.choice(ODD_PATHS)
        if kind < 0.9:
            return mutate_text(rng, rng.choice([str(store.path), f"sqlite:///{store.path}", "store.sqlite3",
                                                *URLS[:6]]))
        return f"new{i}.sqlite3" if rng.random() < 0.02 else rng.choice(["typo.sqlite3", "stor.sqlite3", "dir/x.db"])

    def generate(rng, i):
        argv = [*rng.choice(commands), "--db", value(rng, i)]
        if "--create" not in argv and rng.random() < 0.05 and argv[0] != "score":
            argv.append("--create")
        return argv if rng.random() < 0.9 else mutate_argv(rng, argv, 1)

    assert store.command(["backup", "--db", str(store.path), "--out", "good.bak"])[0] == 0
    (store.root / "export.csv").write_text(
        "mrn,given_name,family_name,birth_date,sex,population,clinic\nP9,Ana,Ruiz,1950-01-01,female,community,\n", "utf-8")
    fuzz(store, "--db", generate)
