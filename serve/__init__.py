"""Serving StepBack to a clinic: ``stepback serve``.

Caddy (Debian ``caddy``) in front terminates TLS (its internal certificate
authority by default, the clinic's own certificate when given) and spreads
browsers over N Streamlit processes on loopback ports with sticky sessions
(a cookie naming the process), so a browser's page, websocket and media
requests always reach the process that holds its session. Every app
process loads the model and the reference tables before it takes its first
browser (:func:`ui.resources.preload`). The processes share one database:
SQLite in WAL mode on one machine, PostgreSQL when
``$STEPBACK_DATABASE_URL`` names one.

:mod:`serve.caddy` writes the Caddyfile, :mod:`serve.launcher` checks the
options and supervises the processes, :mod:`serve.worker` is one app process.
"""

from .caddy import caddyfile
from .launcher import ServeOptions, check_options, serve

__all__ = ["ServeOptions", "caddyfile", "check_options", "serve"]
