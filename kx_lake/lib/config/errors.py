"""One error type for bad configuration, always naming the file, row (when tabular) and field.

Operators fix config from the message alone, so the location is part of the error, not the log.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """A configuration problem located by file, optional row number and optional field."""

    def __init__(self, file: Path | str, message: str, *, row: int | None = None, field: str | None = None):
        self.file = str(file)
        self.row = row
        self.field = field
        self.message = message
        where = self.file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class ConfigErrors(ValueError):
    """Several ConfigErrors found in one pass, so a user fixes a file in one go."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
