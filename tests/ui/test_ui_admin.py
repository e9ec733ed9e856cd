"""Admin, Audit and Data pages through AppTest on a real SQLite file, the audit
query module, and user text that looks like HTML (XSS)."""

from __future__ import annotations

import ast
import csv
import io
import json
import sqlite3
from datetime import date, timedelta

import pytest

from models import load_default_model
from records import accounts, services
from records.audit import list_audit
from records.audit_query import AuditFilter, audit_csv, export_audit_csv, query_audit
from records.exchange import csv_columns
from ui import flow

from ui_helpers import ROOT, click, shown, signed_in, submit

XSS = "<script>alert(1)</script>"
SCREEN = {"needed_help_or_lost_balance_in_test": False, "balance_disorder_or_vertigo": False, "neurological_condition": False,
          "acute_joint_injury_or_pain": False, "fall_with_injury_past_3_months": False, "uses_walking_aid": False,
          "has_treadmill_with_handrails": False}


def errors(at):
    return [e.value for e in at.error]


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# ------------------------------------------------------------------ admin


def test_admin_adds_and_disables_a_user(db):
    at = signed_in("ui/pages/admin.py", user="boss")
    assert [t.value for t in at.title] == ["Admin"]
    table = at.dataframe[0].value
    assert list(table["Username"]) == ["boss", "jdoe"]
    assert list(table["Status"]) == ["enabled", "enabled"]
    at.text_input(key="new_username").input("kim.lee")
    at.text_input(key="new_display").input("Kim Lee")
    at.text_input(key="new_password").input("another long password")
    at.text_input(key="new_password2").input("another long password")
    submit(at, "add_user", "Add user")
    assert any("Added kim.lee (clinician)" in s.value for s in at.success)
    assert "kim.lee" in list(at.dataframe[0].value["Username"])
    assert list_audit(db, action="user.create")[0].actor == "boss"

    at.selectbox(key="manage_pick").set_value("kim.lee").run()
    click(at, "disable_user")
    assert any("Disabled kim.lee" in s.value for s in at.success)
    row = at.dataframe[0].value.set_index("Username").loc["kim.lee"]
    assert row["Status"].startswith("disabled since")
    [kim] = [u for u in accounts.list_users(db) if u.username == "kim.lee"]
    assert kim.disabled and kim.has_password  # kept, not deleted
    with pytest.raises(accounts.AccountDisabled):
        accounts.authenticate(db, "kim.lee", "another long password")

    at.selectbox(key="manage_pick").set_value("kim.lee").run()
    click(at, "enable_user")
    assert accounts.authenticate(db, "kim.lee", "another long password").username == "kim.lee"
    actions = [r.action for r in list_audit(db, entity="clinician") if r.actor == "boss"]
    assert {"user.create", "user.disable", "user.enable"} <= set(actions)


def test_add_user_errors_name_the_field(db):
    at = signed_in("ui/pages/admin.py", user="boss")
    at.text_input(key="new_username").input("jdoe")
    at.text_input(key="new_password").input("another long password")
    at.text_input(key="new_password2").input("another long password")
    submit(at, "add_user", "Add user")
    assert any(e.startswith("Username:") and "already exists" in e for e in errors(at)), errors(at)
    at.text_input(key="new_username").input("system")
    at.text_input(key="new_password").input("another long password")
    at.text_input(key="new_password2").input("another long password")
    submit(at, "add_user", "Add user")
    assert any("reserved" in e for e in errors(at)), errors(at)
    assert [u.username for u in accounts.list_users(db)] == ["boss", "jdoe"]


def test_admin_sets_a_password_which_clears_a_lock(db):
    for n in range(accounts.MAX_FAILED_SIGN_INS):
        with pytest.raises(accounts.SignInError):
            accounts.authenticate(db, "jdoe", f"wrong password {n}")
    at = signed_in("ui/pages/admin.py", user="boss")
    assert "locked until" in at.dataframe[0].value.set_index("Username").loc["jdoe", "Status"]
    at.selectbox(key="pw_pick").set_value("jdoe")
    at.text_input(key="pw_new").input("a fresh long password")
    at.text_input(key="pw_new2").input("a fresh long password")
    submit(at, "set_password", "Set password")
    assert accounts.authenticate(db, "jdoe", "a fresh long password").username == "jdoe"


# ------------------------------------------------------------------ audit


def test_audit_query_filters_by_user_action_entity_and_dates(db, patient):
    services.get_patient(db, patient.mrn, actor="jdoe")
    everything = query_audit(db, AuditFilter(limit=1000), actor="boss")
    assert [r.id for r in everything] == sorted((r.id for r in everything), reverse=True)
    mine = query_audit(db, AuditFilter(actor="jdoe"), actor="boss")
    assert mine and {r.actor for r in mine} == {"jdoe"}
    creates = query_audit(db, AuditFilter(action="user.create"), actor="boss")
    assert len(creates) == 2 and {r.entity for r in creates} == {"clinician"}
    patients = query_audit(db, AuditFilter(entity="patient"), actor="boss")
    assert patients and {r.entity for r in patients} == {"patient"}
    today = date.today()
    assert len(query_audit(db, AuditFilter(since=today - timedelta(days=1), until=today + timedelta(days=1)),
                           actor="boss")) == len(everything)
    assert query_audit(db, AuditFilter(until=today - timedelta(days=2)), actor="boss") == []
    assert query_audit(db, AuditFilter(since=today + timedelta(days=2)), actor="boss") == []
    assert len(query_audit(db, AuditFilter(limit=2), actor="boss")) == 2


@pytest.mark.parametrize("flt, field", [
    (AuditFilter(since=date(2025, 2, 1), until=date(2025, 1, 1)), "since"),
    (AuditFilter(limit=0), "limit"),
    (AuditFilter(actor="x" * 65), "actor"),
    (AuditFilter(until="2025-01-01"), "until"),
])
def test_audit_filter_errors_name_the_field(db, flt, field):
    with pytest.raises(accounts.InputError) as err:
        query_audit(db, flt, actor="boss")
    assert err.value.field == field


def test_only_admins_read_or_export_the_audit(db):
    with pytest.raises(accounts.NotAllowed):
        query_audit(db, AuditFilter(), actor="jdoe")
    with pytest.raises(accounts.NotAllowed):
        export_audit_csv(db, AuditFilter(), actor="jdoe")


def test_audit_csv_neutralises_formulas():
    from records.views import AuditView
    from datetime import UTC, datetime

    row = AuditView(1, datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "-jo", "=cmd()", "@x", "+1", {"a": 1})
    [out] = read_csv(audit_csv([row]))
    assert out == {"id": "1", "at_utc": "2025-01-02T03:04:05+00:00", "actor": "'-jo", "action": "'=cmd()",
                   "entity": "'@x", "entity_id": "'+1", "detail": '{"a":1}'}


def test_audit_page_filter_and_csv_export(db, patient, delivered):
    services.get_patient(db, patient.mrn, actor="jdoe")
    at = signed_in("ui/pages/audit.py", user="boss")
    assert [t.value for t in at.title] == ["Audit trail"]
    at.selectbox(key="audit_user").set_value("jdoe").run()
    at.selectbox(key="audit_entity").set_value("patient").run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert len(shown) > 0 and set(shown["User"]) == {"jdoe"} and set(shown["Entity"]) == {"patient"}
    expected = [r.id for r in query_audit(db, AuditFilter(actor="jdoe", entity="patient"), actor="boss")]
    assert list(shown["ID"]) == expected
    # no edit or delete control anywhere on the page
    assert not [b for b in at.button if any(w in b.label.lower() for w in ("delete", "edit", "remove"))]
    assert not at.get("download_button")  # nothing waits at a /media URL
    assert list_audit(db, action="audit.export_csv") == [] and delivered == {}  # nothing exported before the click
    click(at, "audit_export")
    [name] = [n for n in delivered if n.startswith("stepback-audit-")]
    rows = read_csv(delivered[name])
    assert [int(r["id"]) for r in rows] == expected
    assert {r["actor"] for r in rows} == {"jdoe"}
    [export] = list_audit(db, action="audit.export_csv")
    assert export.actor == "boss"
    assert export.detail["rows"] == len(expected)
    assert export.detail["filter"]["actor"] == "jdoe" and export.detail["filter"]["entity"] == "patient"


def test_audit_page_date_range_excludes_other_days(db):
    at = signed_in("ui/pages/audit.py", user="boss")
    old = date.today() - timedelta(days=10)
    at.date_input(key="audit_dates").set_value((old - timedelta(days=5), old)).run()
    assert not at.exception
    assert not at.dataframe and any("0 rows" in m.value for m in at.markdown)


# ------------------------------------------------------------------ data


def test_csv_import_rejected_shows_every_bad_row(db):
    header = ",".join(csv_columns(1))
    cols = csv_columns(1)

    def line(**cells):
        return ",".join(cells.get(c, "") for c in cols)

    body = "\n".join([
        header,
        line(mrn="OK-1", given_name="Ana", family_name="Good", birth_date="1950-01-02"),
        line(mrn="BAD 2", given_name="Bo", family_name="Bad", birth_date="1950-01-02"),
        line(mrn="OK-3", given_name="Cy", family_name="Bad", birth_date="not a date"),
    ]) + "\n"
    at = signed_in("ui/pages/exchange.py")
    assert [t.value for t in at.title] == ["Data"]
    at.file_uploader(key="import_file").set_value(("patients.csv", body.encode(), "text/csv")).run()
    click(at, "import_run")
    assert any("Nothing imported" in e for e in errors(at)), errors(at)
    report = at.dataframe[0].value
    assert list(report.columns) == ["Line", "Field", "Reason"]
    assert set(report["Line"]) == {3, 4}
    assert set(report[report["Line"] == 3]["Field"]) == {"mrn"}
    assert set(report[report["Line"] == 4]["Field"]) == {"birth_date"}
    assert services.list_patients(db, actor="jdoe") == []  # nothing imported, not even line 2
    assert list_audit(db, action="exchange.import_rejected")[0].actor == "jdoe"


def test_csv_import_accepted_and_exports(db, patient, delivered):
    cols = csv_columns(1)
    body = ",".join(cols) + "\n" + ",".join(
        {"mrn": "NEW-1", "given_name": "Dee", "family_name": "Imported", "birth_date": "1944-04-04"}.get(c, "")
        for c in cols) + "\n"
    at = signed_in("ui/pages/exchange.py")
    at.file_uploader(key="import_file").set_value(("p.csv", body.encode(), "text/csv")).run()
    click(at, "import_run")
    assert any("Imported 1 rows: 1 new patients" in s.value for s in at.success), [s.value for s in at.success]
    assert services.get_patient(db, "NEW-1", actor="jdoe").family_name == "Imported"
    # CSV export: built only on the click, never at a /media URL
    assert list_audit(db, action="exchange.export_csv") == [] and not at.get("download_button")
    click(at, "export_csv")
    [csv_name] = [n for n in delivered if n.startswith("stepback-export-")]
    exported = read_csv(delivered[csv_name])
    assert sorted(r["mrn"] for r in exported) == ["MRN001", "NEW-1"]
    assert list_audit(db, action="exchange.export_csv")[0].actor == "jdoe"
    # FHIR export of the picked patient
    at.selectbox(key="fhir_pick").set_value("MRN001").run()
    click(at, "export_fhir")
    [fhir_name] = [n for n in delivered if n.startswith("stepback-fhir-")]
    bundle = json.loads(delivered[fhir_name])
    assert bundle["resourceType"] == "Bundle"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert list_audit(db, action="patient.export_fhir")[0].actor == "jdoe"
    # no backup for a clinician
    assert "backup_download" not in [b.key for b in at.button]


def test_admin_backup_download(db, patient, delivered, tmp_path):
    at = signed_in("ui/pages/exchange.py", user="boss")
    assert list_audit(db, action="database.backup") == []  # nothing built before the click
    click(at, "backup_download")
    [name] = [n for n in delivered if n.startswith("stepback-backup-")]
    data = delivered[name]
    assert data.startswith(b"SQLite format 3\x00")
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(data)
    with sqlite3.connect(copy) as con:
        assert con.execute("select mrn from patients").fetchall() == [("MRN001",)]
    assert list_audit(db, action="database.backup")[0].actor == "boss"


# ------------------------------------------------------------------ XSS


def assess(db, mrn, times):
    draft = services.start_assessment(db, mrn, assessed_on=date.today(), footwear="shoes", safety_screen=SCREEN,
                                      prior_falls=0, walking_aid=False, actor="jdoe")
    for t in times:
        services.record_trial(db, draft, {"seconds": t, "timing_source": "manual"}, actor="jdoe")
    return flow.finalize(db, draft, load_default_model(), actor="jdoe")


def assert_no_raw_html(at):
    """No markdown rendered with unsafe_allow_html, and no st.html, carries the user's text."""
    unsafe = [m.value for kind in ("markdown", "caption") for m in getattr(at, kind) if m.proto.allow_html]
    assert not [u for u in unsafe if "<script" in u.lower()], unsafe
    assert not [h for h in at.get("html") if "<script" in str(h.proto).lower()]


def visible_text(at) -> str:
    parts = [str(e.value) for kind in ("title", "subheader", "markdown", "caption", "success", "info", "warning")
             for e in getattr(at, kind)]
    for frame in (*at.dataframe, *at.table):
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def test_script_in_a_patient_name_is_shown_as_text(db):
    at = signed_in("ui/pages/patients.py")
    at.text_input(key="add_mrn").input("XSS-1")
    at.text_input(key="add_given").input(XSS)
    at.text_input(key="add_family").input("Tester")
    at.date_input(key="add_birth").set_value(date(1950, 1, 2))
    submit(at, "add_patient", "Add patient")
    assert services.get_patient(db, "XSS-1", actor="jdoe").given_name == XSS
    assert XSS in shown(visible_text(at))  # in the table and the confirmation, as escaped (literal) text
    assert_no_raw_html(at)
    view = assess(db, "XSS-1", [5.0, 5.2])
    at.session_state["result_assessment_id"] = view.id
    at.switch_page("ui/pages/result.py").run()
    assert not at.exception, at.exception
    assert any(XSS in shown(m.value) for m in at.markdown), "the patient header names the patient, as text"
    assert_no_raw_html(at)
    at.session_state["selected_mrn"] = "XSS-1"
    at.switch_page("ui/pages/history.py").run()
    assert not at.exception, at.exception
    assert any(XSS in shown(m.value) for m in at.markdown), "the patient header names the patient, as text"
    assert_no_raw_html(at)


def test_the_raw_html_check_can_fail():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(f"import streamlit as st\nst.markdown({XSS!r}, unsafe_allow_html=True)").run()
    with pytest.raises(AssertionError):
        assert_no_raw_html(at)


def _constant_text(node, constants=frozenset()) -> bool:
    """A string literal, literals joined with +, implicit concatenation (no f-string), or a name in ``constants``.

    ``constants``: the module's UPPER-CASE names assigned once, at module level, a plain string literal.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.Name):
        return node.id in constants
    return isinstance(node, ast.BinOp) and _constant_text(node.left, constants) and _constant_text(node.right, constants)


def _literal_constants(tree) -> frozenset:
    """Module-level ``_NAME = "literal"`` assignments (assigned once; no f-string, no call)."""
    assigned: dict[str, int] = {}
    literal = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    assigned[t.id] = assigned.get(t.id, 0) + 1
                    if t.id.lstrip("_").isupper() and node.value is not None and _constant_text(node.value):
                        literal.add(t.id)
    return frozenset(n for n in literal if assigned[n] == 1)


def test_html_reaches_the_page_only_as_constant_text():
    """Every unsafe_allow_html=True call and every HTML component in ui/ and app.py takes literal text."""
    sources = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]
    seen = 0
    for path in sources:
        tree = ast.parse(path.read_text(), str(path))
        constants = _literal_constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                         for k in node.keywords)
            name = ast.unparse(node.func)
            html_call = name.endswith(("st.html", "components.html", "components.v1.html"))
            component = name.endswith("components.v2.component")
            if unsafe or html_call:
                seen += 1
                assert node.args and _constant_text(node.args[0], constants), f"{path.name}:{node.lineno} {ast.unparse(node)[:80]}"
            if component:
                seen += 1
                html = next((k.value for k in node.keywords if k.arg == "html"), None)
                assert html is not None and isinstance(html, ast.Name) and html.id.isupper(), (
                    f"{path.name}:{node.lineno}: component HTML must be a module constant")
    assert seen >= 1  # the wizard's static CSS and the stopwatch component are checked
