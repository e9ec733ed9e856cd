"""The CSV ``language`` column: the patient's preferred handout language round-trips; a bad one rejects the file."""

from __future__ import annotations

import csv

import pytest

from records import exchange
from records import services as svc
from records.exchange import ImportRejected

HEADER = "mrn,given_name,family_name,birth_date,sex,population,language\n"


def _write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_language_is_imported_and_exported(db, other_db, tmp_path):
    path = _write(tmp_path / "in.csv", HEADER + "L1,Ana,Ruiz,1948-03-02,female,community,es\n"
                                                "L2,秀英,王,1946-07-02,female,community,zh-Hans\n"
                                                "L3,Bo,Lee,1950-01-01,male,community,\n")
    exchange.import_csv(db, path, actor="alice")
    assert [svc.get_patient(db, m).language for m in ("L1", "L2", "L3")] == ["es", "zh-Hans", None]
    out = tmp_path / "out.csv"
    exchange.export_csv(db, out, actor="alice")
    with open(out, encoding="utf-8-sig", newline="") as f:  # the export starts with a BOM
        rows = {r["mrn"]: r["language"] for r in csv.DictReader(f)}
    assert rows == {"L1": "es", "L2": "zh-Hans", "L3": ""}
    exchange.import_csv(other_db, str(out), actor="bob")
    assert svc.get_patient(other_db, "L2").language == "zh-Hans"


def test_a_bad_language_rejects_the_whole_file(db, tmp_path):
    path = _write(tmp_path / "bad.csv", HEADER + "L1,Ana,Ruiz,1948-03-02,female,community,es\n"
                                                 "L2,Bo,Lee,1950-01-01,male,community,Spanish\n")
    before = svc.count_rows(db)["patients"]
    with pytest.raises(ImportRejected) as caught:
        exchange.import_csv(db, path, actor="alice")
    (problem,) = caught.value.problems
    assert problem.line == 3 and problem.field == "language" and "en, es, zh-Hans" in problem.reason
    assert svc.count_rows(db)["patients"] == before
