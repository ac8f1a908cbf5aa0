"""Patient identifiers never reach the lake in clear: `pii_columns` values become keyed tokens.

`pii_columns` in collections.csv lists dotted field paths (`phone`, `contacts.phone`,
`addresses.line1`). A path walks nested documents and, through arrays, every element, so
`contacts.phone` reaches the phone of each contact. The value found there — a scalar, an array (each
element) or a whole sub-document (one token for all of it) — is replaced by
`kxpii:<key id>:<32 hex>`: HMAC-SHA256 under the environment's key over the value's canonical text
(strings NFC-normalised, integers in decimal, dates in ISO-8601, ObjectIds in hex, documents as sorted
JSON). Same value, same key → same token, so joins, counts and distinct counts still work; without
the key a token reveals nothing (no dictionary attack on phone numbers or names, unlike a plain hash).
null and missing stay null and missing.

The key is a secret of the environment, never configuration: the variable named by the environment's
`pii_key_secret` (default `KX_LAKE_<ENV>_PII_KEY`), at least 32 characters. The key id in each token
(8 hex of an HMAC of a fixed label, not the key) shows which key made it. Rotating the key changes
every token from then on, and only what is extracted again: a re-sync of every date
(`kx-lake sync --env E --all-dates --collections ...`) replaces the versions the source still has,
but a date's merge keeps every row not extracted again — earlier versions kept as history, documents
purged at the source, the versions behind tombstones, kx_rejects entries — with their old tokens. So
a table mixes key ids after a rotation, and a value's old and new tokens differ: joins and distinct
counts across the rotation point do not match. The key id finds the old tokens. A table with new
tokens only takes a full re-load into a fresh table (the collection's lake folder and state removed,
then `--all-dates`), which loses what the source no longer has.

This is a pure function over a decoded document; the pipeline applies it before anything is spooled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TOKEN_PREFIX = "kxpii"
MIN_KEY_CHARS = 32
_KEY_ID_LABEL = b"kx-lake pii key id"
PATH_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class PiiKeyError(RuntimeError):
    """The environment's PII key is missing or too short; the message names the variable, never a value."""


def canonical_text(value: object) -> str:
    """The text a token is computed from: equal values (as MongoDB users see them) give equal text."""
    if isinstance(value, str):
        return "s:" + unicodedata.normalize("NFC", value)
    if isinstance(value, bool):
        return "b:" + ("true" if value else "false")
    if isinstance(value, int):  # int, bson Int64
        return "n:" + str(int(value))
    if isinstance(value, float):
        return "n:" + (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, dt.datetime):
        return "d:" + value.isoformat()
    return "j:" + json.dumps(value, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class PiiTokenizer:
    """Replaces the values at `paths` in a document by keyed tokens; `tokenizer(doc)` returns a new
    document and leaves `doc` untouched (only the dicts and lists on a tokenized path are copied)."""

    key: bytes
    paths: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_CHARS:
            raise PiiKeyError(f"a PII key needs at least {MIN_KEY_CHARS} characters")
        for path in self.paths:
            if not PATH_PATTERN.match(path):
                raise ValueError(f"{path!r} is not a dotted field path")

    @property
    def key_id(self) -> str:
        return hmac.new(self.key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:8]

    def token(self, value: object) -> str:
        digest = hmac.new(self.key, canonical_text(value).encode("utf-8", "surrogatepass"), hashlib.sha256)
        return f"{TOKEN_PREFIX}:{self.key_id}:{digest.hexdigest()[:32]}"

    def __call__(self, doc: Mapping[str, object]) -> dict:
        out: object = dict(doc)
        for path in self.paths:
            out = self._apply(out, path.split("."))
        assert isinstance(out, dict)
        return out

    def _apply(self, node: object, parts: list[str]) -> object:
        if isinstance(node, list):
            return [self._apply(item, parts) for item in node]
        if not isinstance(node, dict) or parts[0] not in node:
            return node
        head, rest = parts[0], parts[1:]
        copy = dict(node)
        copy[head] = self._apply(node[head], rest) if rest else self._replace(node[head])
        return copy

    def _replace(self, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, list):
            return [self._replace(v) for v in value]
        return self.token(value)


def pii_key(variable: str, env_name: str, environ: Mapping[str, str] | None = None) -> bytes:
    """The environment's PII key from `variable`; refused (naming env and variable) if unset or short."""
    env = os.environ if environ is None else environ
    value = env.get(variable, "")
    if not value:
        raise PiiKeyError(
            f"{env_name}: collections with pii_columns need a PII key, but {variable} is not set; "
            f"set it to a random secret of at least {MIN_KEY_CHARS} characters (e.g. `openssl rand -hex 32`)"
        )
    if len(value) < MIN_KEY_CHARS:
        raise PiiKeyError(f"{env_name}: {variable} is shorter than {MIN_KEY_CHARS} characters")
    return value.encode()


def tokenizer_for(paths: Sequence[str], variable: str, env_name: str,
                  environ: Mapping[str, str] | None = None) -> PiiTokenizer | None:
    """The tokenizer of one collection in one environment, or None when it has no pii_columns."""
    if not paths:
        return None
    return PiiTokenizer(pii_key(variable, env_name, environ), tuple(paths))


def local_key_file(home: Path, env_name: str) -> Path:
    return home / "secrets" / f"pii-{env_name}.key"


def environ_with_key(variable: str, env_name: str, home: Path, uses_local_source: bool,
                     environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The environment to read the key from. A deployment sets `variable`; the embedded local stack
    (no MongoDB URI variable: the laptop's FerretDB) gets a random key made once under
    `<home>/secrets/` (0600, never committed), so `make demo` tokenizes without any set-up."""
    env = dict(os.environ if environ is None else environ)
    if env.get(variable) or not uses_local_source:
        return env
    path = local_key_file(home, env_name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    env[variable] = path.read_text().strip()
    return env
