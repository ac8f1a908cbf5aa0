"""The one scrubber for every text that leaves the process: exception messages, Dagster logs and
metadata, e-mails, CLI errors.

Secrets reach text in two ways, so there are two layers. Shapes: a URI's password and secret query
values (wherever the URI sits in a longer message), AWS access key ids and secret keys, bearer and
basic tokens, and `password=…`-like assignments are recognised by their form, so a secret we have
never seen (a driver echoing its URI) is still caught. Values: the values of the variables that hold
secrets (each environment's MongoDB URI variable, the SMTP password, the AWS chain, any variable whose
name says it is a secret) are replaced wherever they appear, even outside any recognisable shape.
Values are read from the environment when a Scrubber is built (when text is about to leave), never
at import.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from kx_lake.lib.config import ProjectConfig

REDACTED = "***"

AWS_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID")
# a variable whose name says it holds a secret (KX_LAKE_ENV1_MONGODB_URI, SMTP_PASSWORD, GITHUB_TOKEN ...)
_SECRET_VAR = re.compile(r"PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY|ACCESS_KEY|PII_KEY|MONGODB_URI", re.IGNORECASE)
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|credential|api[_-]?key|access[_-]?key|private[_-]?key", re.IGNORECASE)
_MIN_SECRET_LEN = 4  # shorter values would scrub ordinary words
_MIN_DISCOVERED_LEN = 8  # for variables found by their name only: a short value there is rarely a secret

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>.*)$", re.DOTALL)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
# a 40-character AWS secret access key: base64 alphabet, mixed case and digits (a hex sha1 is not)
_AWS_SECRET = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[0-9])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/-]{8,}=*")
_BASIC = re.compile(r"\b([Bb]asic)(\s+)(?![a-z]+\b)[A-Za-z0-9+/]{8,}={0,2}")
# name = value, name: value, "name": "value", 'Name': 'value' (a boto or JSON dict echoed in an error)
_ASSIGNED = re.compile(
    r"(?P<name>[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|credential|api[_-]?key|access[_-]?key"
    r"|private[_-]?key)[A-Za-z0-9_-]*)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"'\\&,;)}\]]+)",
    re.IGNORECASE,
)


def redact_uri(uri: str) -> str:
    """One URI with its password and secret query values (tokens, passwords) replaced by ***."""
    match = _SCHEME.match(uri)
    if not match:
        return uri
    scheme, rest = match["scheme"], match["rest"]
    head, sep, query = rest.partition("?")
    userinfo, at, hosts = head.rpartition("@")  # hosts and paths never contain '@'; userinfo ends at the last one
    if at:
        user, colon, _password = userinfo.partition(":")
        head = f"{user}:{REDACTED}@{hosts}" if colon else f"{userinfo}@{hosts}"
    if sep:
        query = _redact_query(query)
    return f"{scheme}{head}{sep}{query}"


def _redact_query(query: str) -> str:
    """Redact secret values; leave every other parameter byte for byte as written."""
    parts = []
    for part in query.split("&"):
        key, eq, value = part.partition("=")
        name = unquote(key)
        if eq and _SECRET_NAME.search(name):
            part = f"{key}={REDACTED}"
        elif eq and name.lower() == "authmechanismproperties":
            props = [_redact_property(p) for p in unquote(value).split(",")]
            if any(p.endswith(f":{REDACTED}") for p in props):
                part = f"{key}={','.join(props)}"
        parts.append(part)
    return "&".join(parts)


def _redact_property(prop: str) -> str:
    name, colon, _value = prop.partition(":")
    return f"{name}:{REDACTED}" if colon and _SECRET_NAME.search(name) else prop


def _assigned(m: re.Match[str]) -> str:
    return m["name"] + m["sep"] + (m["value"] if m["value"] == REDACTED else REDACTED)


def scrub_shapes(text: str) -> str:
    """Remove every secret recognisable by its form, wherever it sits in `text`."""
    out = _URI.sub(lambda m: redact_uri(m.group(0)), text)
    out = _ASSIGNED.sub(_assigned, out)
    out = _BEARER.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", out)
    out = _BASIC.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", out)
    out = _AWS_KEY_ID.sub(REDACTED, out)
    return _AWS_SECRET.sub(REDACTED, out)


class Scrubber:
    """`scrub(text)`: the text with every known secret value and every secret-shaped token replaced."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}
        for value in list(values):
            # a URI's password also appears on its own, unencoded or percent-encoded, in other text
            m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:(.+)@[^@]*$", value)
            if m and len(m.group(1)) >= _MIN_SECRET_LEN:
                values |= {m.group(1), unquote(m.group(1))}
        values |= {quote(v, safe="") for v in values}
        self._values = sorted(values, key=len, reverse=True)

    @classmethod
    def from_environment(cls, var_names: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Scrubber:
        """The named variables' values, the AWS chain's, and those of every variable named like a secret."""
        env = os.environ if environ is None else environ
        named = [env.get(name, "") for name in (*var_names, *AWS_SECRET_VARS)]
        discovered = [v for k, v in env.items() if _SECRET_VAR.search(k) and len(v) >= _MIN_DISCOVERED_LEN]
        return cls([*named, *discovered])

    @classmethod
    def for_project(cls, project: ProjectConfig, extra_var_names: Iterable[str] = (),
                    environ: Mapping[str, str] | None = None) -> Scrubber:
        """Every environment's secret variables (MongoDB URI, PII key) plus `extra_var_names` (e.g. SMTP)."""
        names = [n for e in project.environments.values() for n in (e.mongodb_uri_secret, e.pii_key_variable)]
        return cls.from_environment([*names, *extra_var_names], environ)

    def __call__(self, text: object) -> str:
        out = scrub_shapes(str(text))  # shapes first: a redacted URI keeps its user and hosts
        for value in self._values:
            out = out.replace(value, REDACTED)
        return out


def scrub(text: object, environ: Mapping[str, str] | None = None) -> str:
    """Scrub with the secrets of the current environment (for call sites without a project at hand)."""
    return Scrubber.from_environment((), environ)(text)


class ScrubbedError(RuntimeError):
    """An error whose own type could not be rebuilt around its scrubbed message; the message names that type."""


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what a traceback would print with it (its cause or unsuppressed context), outermost first."""
    out: list[BaseException] = []
    while exc is not None and exc not in out:
        out.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return out


def scrubbed_error(exc: BaseException, scrub: Callable[[object], str]) -> BaseException:
    """`exc` itself when nothing in it or its chain is secret; else a new error with the scrubbed text
    (its causes' messages appended): of `exc`'s type when that type takes one message, else a
    ScrubbedError naming the type. Raise the new one `from None`, or the chain prints the original."""
    chain = _chain(exc)
    if all(scrub(e) == str(e) for e in chain):
        return exc
    message = scrub(exc) + "".join(f" (caused by {type(e).__name__}: {scrub(e)})" for e in chain[1:])
    try:
        clean = type(exc)(message)
        if str(clean) != message:
            raise TypeError("the type does not keep its message as given")
    except Exception:  # noqa: BLE001 - a type with another constructor (botocore's ClientError, KeyError's repr)
        clean = ScrubbedError(f"{type(exc).__name__}: {message}")
    return clean.with_traceback(exc.__traceback__)  # frames show code lines, never values


@contextmanager
def errors_scrubbed(make_scrubber: Callable[[], Callable[[object], str]]) -> Iterator[None]:
    """Re-raise any error of the block scrubbed (scrubbed_error); the scrubber is built only on error."""
    try:
        yield
    except Exception as exc:
        clean = scrubbed_error(exc, make_scrubber())
        if clean is exc:
            raise
        raise clean from None


def scrub_tree(value: object, scrub: Callable[[object], str]) -> object:
    """Every string in nested dicts, lists and tuples scrubbed (metadata bodies); keys and the rest kept."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_tree(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_tree(v, scrub) for v in value]
    return value
