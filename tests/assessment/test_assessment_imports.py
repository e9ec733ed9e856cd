"""`assessment` is the bottom layer: importing it loads no UI, database, PDF or pandas."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("streamlit", "sqlalchemy", "reportlab", "pandas")

PROBE = """
import json, sys
import assessment
from assessment import tables
loaded = sorted({m.split('.')[0] for m in sys.modules})
print(json.dumps({"loaded": loaded, "tables_read": tables.read_table.cache_info().currsize}))
"""


def run_probe() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def test_importing_assessment_loads_no_ui_database_pdf_or_pandas():
    probe = run_probe()
    assert "assessment" in probe["loaded"]  # the probe really imported it
    assert [m for m in FORBIDDEN if m in probe["loaded"]] == []


def test_reference_tables_are_read_lazily_not_at_import():
    assert run_probe()["tables_read"] == 0
