"""Where the site may listen: loopback freely; any other interface only over TLS, or when the
operator says `--insecure` explicitly (sign-in tokens and session cookies would cross the network
in clear text otherwise). Decided from the host text alone: no name is resolved."""

from __future__ import annotations

import ipaddress


class BindRefused(ValueError):
    """The site would listen beyond loopback over plain HTTP without `--insecure`."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, *, tls: bool, insecure: bool) -> None:
    if is_loopback(host) or tls or insecure:
        return
    raise BindRefused(
        f"refusing to serve the dashboards on {host} over plain HTTP: sign-in tokens and session cookies "
        "would cross the network in clear text. Give --ssl-certfile and --ssl-keyfile (TLS), bind to "
        "127.0.0.1, or pass --insecure if the network is trusted.")


def local_url(host: str, port: int, *, tls: bool) -> str:
    """The URL a local client (the CLI, the health probe) reaches the site at."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else (f"[{host}]" if ":" in host else host)
    return f"{'https' if tls else 'http'}://{shown}:{port}"
