"""Data page FHIR parts (EHR patient import, bulk NDJSON for administrators) and the
Clinic page's falls-screening quality section, through AppTest."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

from records import fhir, services
from records.audit import list_audit

from ui_helpers import PASSWORD, click, shown, signed_in


def _patient(mrn: str, **changes) -> dict:
    resource = {"resourceType": "Patient",
                "identifier": [{"system": fhir.mrn_system(fhir.DEFAULT_FHIR_BASE), "value": mrn}],
                "name": [{"given": ["Eva"], "family": "<i>Ehr</i>"}], "gender": "female", "birthDate": "1947-07-07"}
    resource.update(changes)
    return resource


def test_fhir_patient_import_from_the_data_page(db):
    at = signed_in("ui/pages/exchange.py")
    assert any("STEPBACK_FHIR_BASE is not set" in w.value for w in at.warning)
    bad = "\n".join(json.dumps(r) for r in (_patient("E-1"), _patient("E-2", birthDate="1947"))) + "\n"
    at.file_uploader(key="fhir_import_file").set_value(("Patient.ndjson", bad.encode(), "application/x-ndjson")).run()
    click(at, "fhir_import_run")
    assert any("Nothing imported" in e.value for e in at.error)
    report = at.dataframe[0].value
    assert list(report["Where"]) == ["line 2"] and list(report["Field"]) == ["birthDate"]
    assert services.list_patients(db) == []
    good = json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": _patient("E-1")}]})
    at.file_uploader(key="fhir_import_file").set_value(("ehr.json", good.encode(), "application/fhir+json")).run()
    click(at, "fhir_import_run")
    assert any("Imported 1 FHIR patients: 1 new" in s.value for s in at.success), [s.value for s in at.success]
    assert services.get_patient(db, "E-1").family_name == "<i>Ehr</i>"
    assert list_audit(db, action="exchange.import_fhir")[0].actor == "jdoe"
    assert "export_fhir_bulk" not in [b.key for b in at.button]  # a clinician: no bulk export


def test_an_administrator_downloads_the_clinic_as_bulk_ndjson(db, patient, delivered):
    at = signed_in("ui/pages/exchange.py", user="boss")
    assert not at.get("download_button") and delivered == {}  # nothing waits at a /media URL
    assert list_audit(db, action="exchange.export_fhir_bulk") == []
    click(at, "export_fhir_bulk")
    [name] = [n for n in delivered if n.startswith("stepback-bulk-fhir-")]
    with zipfile.ZipFile(io.BytesIO(delivered[name])) as zf:
        assert sorted(zf.namelist()) == ["Observation.ndjson", "Patient.ndjson", "RiskAssessment.ndjson"]
        (line,) = zf.read("Patient.ndjson").decode().splitlines()
    assert json.loads(line)["identifier"][0]["value"] == "MRN001"
    assert list_audit(db, action="exchange.export_fhir_bulk")[0].actor == "boss"


def test_the_clinic_quality_section_counts_the_clinicians_clinic_only(db, delivered):
    services.add_user(db, username="north1", password=PASSWORD, role="clinician", display_name="Nell North",
                      clinic="North", actor="boss")
    year = date.today().year
    for mrn, clinic in (("N-1", "North"), ("N-2", "North"), ("S-1", "South")):
        services.add_patient(db, mrn=mrn, given_name="Pat", family_name=f"Fam {mrn}", birth_date=date(1940, 1, 1),
                             sex="female", clinic=clinic, actor="boss")
    services.record_assessment(db, "N-1", {"trials": [5.0, 5.2], "assessed_on": date(year, 1, 1)}, actor="boss")
    services.record_assessment(db, "S-1", {"trials": [5.0, 5.2], "assessed_on": date(year, 1, 1)}, actor="boss")
    at = signed_in("ui/pages/clinic.py", user="north1")
    before = len(at.metric)
    visits = f"mrn,date\nN-2,{year}-01-01\nS-1,{year}-01-01\n".encode()
    at.file_uploader(key="quality_visits").set_value(("visits.csv", visits, "text/csv")).run()
    click(at, "quality_run")
    metrics = {m.label: m.value for m in at.metric[before:]}
    assert metrics == {"Denominator": "2", "Screened": "1", "Screening rate": "50%",
                       "Plan of care": "—"}
    frame = at.dataframe[-1].value  # the last table: who is not yet screened
    assert list(frame["MRN"]) == ["N-2"]
    assert not at.get("download_button")  # the PDF names patients: it never waits at a /media URL
    click(at, "quality_pdf")
    [name] = [n for n in delivered if n.startswith("stepback-cms139-")]
    assert delivered[name].startswith(b"%PDF-")
    # a bad visit list names the line and column, and shows no numbers
    at.file_uploader(key="quality_visits").set_value(("v.csv", b"mrn,date\nN-2,yesterday\n", "text/csv")).run()
    click(at, "quality_run")
    assert any("visits line 2: date" in shown(e.value).lower() for e in at.error), [e.value for e in at.error]
    assert len(at.metric) == before
