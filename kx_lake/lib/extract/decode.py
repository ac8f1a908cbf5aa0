"""Decoding a raw batch from the server, one document at a time when the batch as a whole fails.

A batch is decoded in one C-level call (the fast path). If that raises — invalid UTF-8 in a key or a
value, a malformed document a server or a proxy let through — the batch is split at the documents'
length prefixes and each is decoded alone, so one bad document costs only itself: it comes back as a
`Decoded` with a `problem` and, where possible, a readable stand-in (`doc`, decoded with invalid bytes
shown as `\\xNN` text) carrying its `_id` and timestamp for routing and for the rejects table. When even
that fails, or the `_id` itself holds invalid bytes, `doc` is None and the raw bytes are all there is.

Duplicate keys decode silently (the last value wins, in every driver), which would drop a value
without a trace. Re-encoding a decoded document gives back its exact size unless something collapsed,
so each document's re-encoded length is compared with its bytes (~1 µs a document); only a mismatch
pays for the precise check, which names the duplicated keys and quarantines the document.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import bson
from bson.codec_options import DEFAULT_CODEC_OPTIONS, DatetimeConversion
from bson.raw_bson import RawBSONDocument

RAW_OPTIONS = DEFAULT_CODEC_OPTIONS.with_options(
    document_class=RawBSONDocument, tz_aware=True, datetime_conversion=DatetimeConversion.DATETIME_AUTO
)
DICT_OPTIONS = DEFAULT_CODEC_OPTIONS.with_options(
    tz_aware=True, datetime_conversion=DatetimeConversion.DATETIME_AUTO
)
# invalid bytes kept as lone surrogates (to find where they are) or as visible `\xNN` text (to show them)
_SURROGATES = DICT_OPTIONS.with_options(unicode_decode_error_handler="surrogateescape")
_READABLE = DICT_OPTIONS.with_options(unicode_decode_error_handler="backslashreplace")
_INT32 = struct.Struct("<i")
_MAX_PATHS = 5


@dataclass(frozen=True)
class Decoded:
    raw: bytes
    doc: dict | None  # the document; with a problem, a readable stand-in (or None if there is none)
    problem: str | None = None
    position: int = 0  # the document's index in its batch (for documents without a decodable _id)


def split_documents(raw: bytes) -> Iterator[bytes]:
    """The documents of concatenated BSON, by their length prefixes (the last one may be truncated)."""
    at = 0
    while at + 4 <= len(raw):
        (size,) = _INT32.unpack_from(raw, at)
        if size < 5 or at + size > len(raw):
            yield raw[at:]
            return
        yield raw[at : at + size]
        at += size
    if at < len(raw):
        yield raw[at:]


def decode_batch(raw: bytes) -> list[Decoded]:
    """Every document of a raw batch, decoded; the bad ones with their problem, the rest untouched."""
    try:
        docs = bson.decode_all(raw, DICT_OPTIONS)
        raws = bson.decode_all(raw, RAW_OPTIONS)
    except Exception:  # noqa: BLE001 - some document is bad: find which, one at a time
        return [decode_one(part, i) for i, part in enumerate(split_documents(raw))]
    out = []
    for i, (r, d) in enumerate(zip(raws, docs, strict=True)):
        problem = None if _same_size(d, r.raw) else _duplicates(r.raw)
        out.append(Decoded(r.raw, d, problem, i))
    return out


def _same_size(doc: dict, raw: bytes) -> bool:
    try:
        return len(bson.encode(doc)) == len(raw)
    except Exception:  # noqa: BLE001 - decided by the precise check
        return False


def _duplicates(raw: bytes) -> str | None:
    """'duplicate keys …' when the document repeats a key at any level, else None."""
    seen: list[str] = []

    class Recorder(dict):  # the C decoder calls __setitem__ on a dict subclass: keys set twice are noted
        def __setitem__(self, key: str, value: Any) -> None:
            if key in self:
                seen.append(key)
            super().__setitem__(key, value)

    try:
        bson.decode_all(raw, DICT_OPTIONS.with_options(document_class=Recorder))
    except Exception:  # noqa: BLE001 - decoded fine before; nothing to add
        return None
    keys = sorted(set(seen))
    if not keys:
        return None
    return "duplicate keys " + ", ".join(repr(k) for k in keys[:_MAX_PATHS]) + (" …" if len(keys) > _MAX_PATHS else "") + \
        " (only the last value of each would land)"


def decode_one(raw: bytes, position: int = 0) -> Decoded:
    try:
        [doc] = bson.decode_all(raw, DICT_OPTIONS)
        return Decoded(raw, doc, None if _same_size(doc, raw) else _duplicates(raw), position)
    except Exception as strict_error:  # noqa: BLE001 - described below, never raised
        try:
            [marked] = bson.decode_all(raw, _SURROGATES)
            [readable] = bson.decode_all(raw, _READABLE)
        except Exception as exc:  # noqa: BLE001 - not BSON at all
            return Decoded(raw, None, f"not decodable as BSON ({len(raw)} bytes): {type(exc).__name__}", position)
        paths = list(_invalid_paths(marked, ""))
        if not paths:
            return Decoded(raw, None, f"not decodable: {type(strict_error).__name__}", position)
        shown = ", ".join(repr(p) for p in paths[:_MAX_PATHS]) + (" …" if len(paths) > _MAX_PATHS else "")
        problem = f"invalid UTF-8 in {shown}"
        if any(p == "_id" or p.startswith(("_id.", "_id[")) for p in paths):
            return Decoded(raw, None, problem + " (the _id itself)", position)
        return Decoded(raw, readable, problem, position)


def _has_surrogate(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _invalid_paths(value: Any, path: str) -> Iterator[str]:
    """Dotted paths (keys shown with `\\xNN` for bad bytes) whose key or text holds invalid UTF-8."""
    if isinstance(value, dict):
        for key, item in value.items():
            shown = key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            sub = f"{path}.{shown}" if path else shown
            if _has_surrogate(key):
                yield sub
            else:
                yield from _invalid_paths(item, sub)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _invalid_paths(item, f"{path}[{i}]")
    elif isinstance(value, str) and _has_surrogate(value):
        yield path
