"""StepBack persistence: schema, migrations, one service per user action, audit trail.

Use :func:`open_database` to get an upgraded :class:`Database`, then call the
functions of :mod:`records.services` with it. Callers get frozen views, never
ORM objects or sessions.
"""

from .db import Database, DatabaseBusy, default_database_url, open_database
from .errors import Conflict, NotFound
from .views import AssessmentView, AuditView, ClinicianView, FallView, ModelVersionView, PatientView, TrialView

__all__ = [
    "AssessmentView", "AuditView", "ClinicianView", "Conflict", "Database", "DatabaseBusy", "FallView",
    "ModelVersionView", "NotFound", "PatientView", "TrialView", "default_database_url", "open_database",
]
