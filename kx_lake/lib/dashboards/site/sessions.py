"""Sign-in sessions and the cookie that carries one.

A sign-in token is a long-lived secret printed in a link, so it is exchanged at /login for a random
session id and never stored in the browser: the cookie holds only the session id, and the sign-in
URL is answered with a redirect, so the token is not left in the address bar or on the back stack.
Sessions live in the server's memory only: a restart signs everyone out, and there is no session
secret on disk to protect. The store keeps the token (not the principal) so each request resolves
it through the TokenStore again: a tenant dropped from tenants.yaml loses access at once.

The cookie's name is per site: env1's and env2's sites (and Dagster) all live on 127.0.0.1, and
browsers do not separate cookies by port, so a shared name would let one site's sign-in overwrite
another's. Over TLS the cookie is `Secure` and takes the `__Host-` prefix (no Domain, path /).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

SESSION_TTL_S = 12 * 3600.0


def cookie_name(env: str, port: int | None, *, secure: bool) -> str:
    name = f"kx_lake_{env}_{port}_session" if port else f"kx_lake_{env}_session"
    return f"__Host-{name}" if secure else name


class SessionStore:
    """session id → (sign-in token, expiry), in memory; `clock` is injectable (monotonic seconds)."""

    def __init__(self, ttl: float = SESSION_TTL_S, clock: Callable[[], float] = time.monotonic):
        self.ttl, self._clock = ttl, clock
        self._sessions: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def open(self, token: str) -> str:
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}  # drop expired ones
            self._sessions[session_id] = (token, now + self.ttl)
        return session_id

    def token(self, session_id: str | None) -> str | None:
        """The token a live session was opened with, or None (unknown, closed or expired)."""
        if not session_id:
            return None
        with self._lock:
            hit = self._sessions.get(session_id)
            if hit is None:
                return None
            if hit[1] <= self._clock():
                del self._sessions[session_id]
                return None
            return hit[0]

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)
