"""models imports only assessment (design.md: imports go one way)."""

import subprocess
import sys


def test_models_imports_no_other_layer():
    code = (
        "import sys, models, models.recalibrate, models.card, models.evaluate, models.train;"
        "bad = [m for m in ('records', 'reports', 'ui', 'streamlit', 'sqlalchemy', 'reportlab') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
