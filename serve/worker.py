"""One app process of ``stepback serve``: load the model and tables, then run Streamlit.

    python -m serve.worker app.py --server.port 8601 ...

The arguments are ``streamlit run``'s. The preload happens before the
server listens, so Caddy's health check sends no browser to a process
that is still loading.
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    """Preload (:func:`ui.resources.preload`), then hand over to ``streamlit run``."""
    t0 = time.perf_counter()
    from ui.resources import preload

    preload()
    print(f"stepback worker: model and reference tables loaded in {time.perf_counter() - t0:.1f} s", flush=True)
    from streamlit.web import cli as streamlit_cli

    sys.argv = ["streamlit", "run", *argv]
    return streamlit_cli.main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
