"""Scrub secrets from any text before it leaves the process (e-mail, logs, metadata, errors).

Two layers, because either alone misses something: every URI-looking token goes through
`redact_uri` (a MongoDB password we have never seen, e.g. in a driver error), and the *values* of
known secret variables (MongoDB URIs, AWS keys, the SMTP password) are replaced wherever they appear,
even outside a URI. Values are read from the environment when a Scrubber is built (at send time),
never at import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from kx_lake.lib.source.uri import REDACTED, redact_uri

AWS_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_MIN_SECRET_LEN = 4  # shorter values would scrub ordinary words


class Scrubber:
    def __init__(self, secrets: Iterable[str] = ()):
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}
        # a URI's password can be embedded unencoded or percent-encoded in other text: scrub its parts too
        for value in list(values):
            m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:([^@]+)@", value)
            if m and len(m.group(1)) >= _MIN_SECRET_LEN:
                values.add(m.group(1))
        self._values = sorted(values, key=len, reverse=True)

    @classmethod
    def from_environment(cls, var_names: Iterable[str], environ: Mapping[str, str] | None = None) -> Scrubber:
        env = os.environ if environ is None else environ
        return cls(env.get(name, "") for name in (*var_names, *AWS_SECRET_VARS))

    def __call__(self, text: object) -> str:
        out = _URI.sub(lambda m: redact_uri(m.group(0)), str(text))
        for value in self._values:
            out = out.replace(value, REDACTED)
        return out
