"""Errors: a failure must name the field and the document (`_id`), so an operator can find it.

Inference and conversion work column by column over a whole batch, where the document is unknown;
they raise `ValueProblem` (a column path and a reason) and the batch-level entry point re-runs the
batch one document at a time to find the culprit, then raises `HarmonizeError`. That slow path is
only ever taken on failure.
"""

from __future__ import annotations


def format_path(path: tuple[str, ...]) -> str:
    """("items", "[]", "name") -> "items[].name"."""
    out = ""
    for part in path:
        out += part if part == "[]" or not out else "." + part
    return out or "<document>"


class ValueProblem(Exception):
    """A value that can't be harmonized, located by column path only (internal)."""

    def __init__(self, path: tuple[str, ...], message: str, *, field: str | None = None):
        self.path = path
        self.field = field or format_path(path)
        self.message = message
        super().__init__(f"{self.field}: {message}")


class HarmonizeError(ValueError):
    """A value that can't be harmonized, naming the field (column path) and the document's `_id`."""

    def __init__(self, message: str, *, field: str, doc_id: str | None):
        self.field = field
        self.doc_id = doc_id
        self.message = message
        super().__init__(f"field '{field}' of document _id={doc_id}: {message}")
