"""The Caddyfile of ``stepback serve``: TLS in front, sticky sessions to the app processes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: Name of Caddy's sticky-session cookie (its value is an HMAC of the chosen app process).
AFFINITY_COOKIE = "stepback_backend"
#: Streamlit's health endpoint, polled by Caddy so a stopped process gets no new browsers.
HEALTH_PATH = "/_stcore/health"


def _site_address(name: str, port: int) -> str:
    host = f"[{name}]" if ":" in name else name
    return f"https://{host}:{port}"


def caddyfile(*, names: Sequence[str], port: int, bind: str, backends: Sequence[int], cookie_secret: str,
              cert: Path | None = None, key: Path | None = None) -> str:
    """The Caddyfile text.

    Parameters
    ----------
    names : sequence of str
        Host names and IP addresses browsers use; with Caddy's internal CA
        each gets a certificate. Ignored with ``cert``: then every name is
        served with the clinic's certificate.
    port : int
        The HTTPS port.
    bind : str
        The address Caddy listens on (``0.0.0.0`` = every interface).
    backends : sequence of int
        Loopback ports of the app processes.
    cookie_secret : str
        HMAC key of the affinity cookie (so a browser cannot pick a process by forging it).
    cert, key : Path, optional
        The clinic's certificate and private key (PEM); default: Caddy's internal CA.

    Returns
    -------
    str
        A Caddyfile: admin API off, no plain-HTTP listener (no redirects),
        nothing installed into the system trust store.
    """
    upstreams = " ".join(f"127.0.0.1:{p}" for p in backends)
    if cert is not None and key is not None:
        sites = f"https://:{port}"
        tls = f'tls "{cert}" "{key}"'
    else:
        sites = ", ".join(_site_address(n, port) for n in names)
        tls = "tls internal"
    return f"""# Written by `stepback serve`; rewritten at every start.
{{
	admin off
	skip_install_trust
	auto_https disable_redirects
	https_port {port}
	log {{
		output stderr
		level WARN
	}}
}}

{sites} {{
	bind {bind}
	{tls}
	header Strict-Transport-Security "max-age=31536000"
	reverse_proxy {upstreams} {{
		lb_policy cookie {AFFINITY_COOKIE} {cookie_secret}
		lb_try_duration 5s
		health_uri {HEALTH_PATH}
		health_interval 5s
		health_timeout 3s
		fail_duration 10s
	}}
}}
"""
