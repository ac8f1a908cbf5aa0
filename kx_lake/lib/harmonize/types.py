"""The lake type system: the small, closed set of column types harmonization can produce.

Why a type system of our own rather than Arrow types directly: the lake needs distinctions Arrow
does not carry (a `json` column is an Arrow string holding canonical JSON; an int64 column that has
held integers beyond 2^53 must never widen to double), a canonical form (struct fields are always
sorted by name, so equality and merging ignore key order), and three renderings that must agree:
Arrow (the Parquet files), Hive/Glue type strings (the catalog) and a versioned JSON document (the
schema persisted between runs). Types are immutable and hashable; `fingerprint` is stable across
processes and versions of this code as long as FORMAT_VERSION is unchanged.

Materialisation rules worth knowing: `null` (only nulls seen) and `struct{}` (only `{}` seen) have no
Parquet/Athena representation of their own, so both are stored as string columns (`{}` as the JSON
text "{}"); they still widen like their lake types.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import pyarrow as pa

FORMAT_NAME = "kx-lake/harmonize-type"
FORMAT_VERSION = 1
MAX_DECIMAL_PRECISION = 38  # Athena / Parquet decimal128
NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,255}$")


class LakeType(ABC):
    """Base of all lake types. Subclasses are frozen dataclasses; instances compare by value."""

    __slots__ = ()
    kind: ClassVar[str]

    @abstractmethod
    def to_arrow(self) -> pa.DataType: ...

    @abstractmethod
    def to_hive(self) -> str: ...

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def to_json(self) -> str:
        """A versioned, key-sorted JSON document; `from_json` reads it back."""
        doc = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "type": self.to_dict()}
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        """sha256 of the persisted form: equal types have equal fingerprints in every process."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def __str__(self) -> str:
        return self.kind


class _Scalar(LakeType):
    """A parameterless type: its Arrow and Hive renderings are constants."""

    __slots__ = ()
    hive: ClassVar[str]
    _arrow: ClassVar[Callable[[], pa.DataType]]

    def to_arrow(self) -> pa.DataType:
        return type(self)._arrow()

    def to_hive(self) -> str:
        return self.hive


@dataclass(frozen=True, slots=True)
class NullType(_Scalar):
    """Only nulls seen. Stored as a string column: Parquet/Athena have no null column type."""

    kind: ClassVar[str] = "null"
    hive: ClassVar[str] = "string"
    _arrow = staticmethod(pa.string)


@dataclass(frozen=True, slots=True)
class BoolType(_Scalar):
    kind: ClassVar[str] = "bool"
    hive: ClassVar[str] = "boolean"
    _arrow = staticmethod(pa.bool_)


@dataclass(frozen=True, slots=True)
class IntType(_Scalar):
    """int64. `wide` records that a value beyond +-2^53 was seen, so the column can't become double."""

    kind: ClassVar[str] = "int64"
    hive: ClassVar[str] = "bigint"
    _arrow = staticmethod(pa.int64)
    wide: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "wide": True} if self.wide else {"kind": self.kind}

    def __str__(self) -> str:
        return "int64(wide)" if self.wide else "int64"


@dataclass(frozen=True, slots=True)
class DoubleType(_Scalar):
    kind: ClassVar[str] = "double"
    hive: ClassVar[str] = "double"
    _arrow = staticmethod(pa.float64)


@dataclass(frozen=True, slots=True)
class DecimalType(LakeType):
    kind: ClassVar[str] = "decimal"
    precision: int = 38
    scale: int = 9

    def __post_init__(self) -> None:
        if not (1 <= self.precision <= MAX_DECIMAL_PRECISION and 0 <= self.scale <= self.precision):
            raise ValueError(f"invalid decimal({self.precision},{self.scale})")

    @property
    def integer_digits(self) -> int:
        return self.precision - self.scale

    def to_arrow(self) -> pa.DataType:
        return pa.decimal128(self.precision, self.scale)

    def to_hive(self) -> str:
        return f"decimal({self.precision},{self.scale})"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "precision": self.precision, "scale": self.scale}

    def __str__(self) -> str:
        return self.to_hive()


@dataclass(frozen=True, slots=True)
class StringType(_Scalar):
    kind: ClassVar[str] = "string"
    hive: ClassVar[str] = "string"
    _arrow = staticmethod(pa.string)


@dataclass(frozen=True, slots=True)
class TimestampType(_Scalar):
    """Naive timestamp, millisecond precision, holding wall-clock time in the environment's timezone."""

    kind: ClassVar[str] = "timestamp"
    hive: ClassVar[str] = "timestamp"

    @staticmethod
    def _arrow() -> pa.DataType:
        return pa.timestamp("ms")


@dataclass(frozen=True, slots=True)
class JsonType(_Scalar):
    """A string column of canonical (relaxed extended) JSON, for values no typed column can hold."""

    kind: ClassVar[str] = "json"
    hive: ClassVar[str] = "string"
    _arrow = staticmethod(pa.string)


@dataclass(frozen=True, slots=True)
class ListType(LakeType):
    kind: ClassVar[str] = "list"
    element: LakeType

    def to_arrow(self) -> pa.DataType:
        return pa.list_(self.element.to_arrow())

    def to_hive(self) -> str:
        return f"array<{self.element.to_hive()}>"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "element": self.element.to_dict()}

    def __str__(self) -> str:
        return f"list<{self.element}>"


@dataclass(frozen=True, slots=True)
class StructType(LakeType):
    """Fields are (name, type) pairs, always sorted by name, names unique and [a-z0-9_]."""

    kind: ClassVar[str] = "struct"
    fields: tuple[tuple[str, LakeType], ...] = ()
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [n for n, _ in self.fields]
        if names != sorted(set(names)):
            raise ValueError(f"struct field names must be unique and sorted: {names}")
        for name, typ in self.fields:
            if not NAME_PATTERN.match(name) or not isinstance(typ, LakeType):
                raise ValueError(f"bad struct field {name!r}: {typ!r}")
        object.__setattr__(self, "_hash", hash(self.fields))

    def __hash__(self) -> int:
        return self._hash

    @staticmethod
    def of(fields: dict[str, LakeType]) -> StructType:
        return StructType(tuple(sorted(fields.items())))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.fields)

    def get(self, name: str) -> LakeType | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def as_dict(self) -> dict[str, LakeType]:
        return dict(self.fields)

    def to_arrow(self) -> pa.DataType:
        if not self.fields:
            return pa.string()  # `{}` only: Parquet can't hold an empty group; stored as JSON "{}"
        return pa.struct([pa.field(n, t.to_arrow()) for n, t in self.fields])

    def to_arrow_schema(self) -> pa.Schema:
        """The record-batch schema when this struct is a table's top level (one column per field)."""
        return pa.schema([pa.field(n, t.to_arrow()) for n, t in self.fields])

    def to_hive(self) -> str:
        if not self.fields:
            return "string"
        return "struct<" + ",".join(f"{n}:{t.to_hive()}" for n, t in self.fields) + ">"

    def hive_columns(self) -> list[tuple[str, str]]:
        """(name, Glue type string) per top-level column, for the catalog."""
        return [(n, t.to_hive()) for n, t in self.fields]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fields": [{"name": n, "type": t.to_dict()} for n, t in self.fields]}

    def __str__(self) -> str:
        return "struct<" + ",".join(f"{n}:{t}" for n, t in self.fields) + ">"


NULL = NullType()
BOOL = BoolType()
INT64 = IntType()
INT64_WIDE = IntType(wide=True)
DOUBLE = DoubleType()
DECIMAL = DecimalType(38, 9)  # the one decimal type inference produces for BSON Decimal128
STRING = StringType()
TIMESTAMP = TimestampType()
JSON = JsonType()
EMPTY_STRUCT = StructType()

_SIMPLE: dict[str, LakeType] = {t.kind: t for t in (NULL, BOOL, DOUBLE, STRING, TIMESTAMP, JSON)}


def from_dict(doc: dict[str, Any]) -> LakeType:
    kind = doc.get("kind")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "int64":
        return INT64_WIDE if doc.get("wide") else INT64
    if kind == "decimal":
        return DecimalType(int(doc["precision"]), int(doc["scale"]))
    if kind == "list":
        return ListType(from_dict(doc["element"]))
    if kind == "struct":
        return StructType.of({f["name"]: from_dict(f["type"]) for f in doc["fields"]})
    raise ValueError(f"unknown lake type kind {kind!r}")


def from_json(text: str) -> LakeType:
    """Read a document written by `LakeType.to_json`; refuses other formats and newer versions."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ValueError("not a kx-lake harmonize type document")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported harmonize type version {doc.get('version')!r}")
    return from_dict(doc["type"])
