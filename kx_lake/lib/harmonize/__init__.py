"""Lossless schema harmonization: MongoDB documents -> one widening lake schema -> Arrow batches.

Pure Python + pyarrow, no I/O. See README_SECTION.md for the contract (widening rules, naming,
json fallback, timestamps, decimals). Public API re-exported here.
"""

from kx_lake.lib.harmonize.convert import Converter
from kx_lake.lib.harmonize.errors import HarmonizeError
from kx_lake.lib.harmonize.infer import SchemaAccumulator
from kx_lake.lib.harmonize.names import OVERFLOW_FIELD, VALUE_FIELD, column_name
from kx_lake.lib.harmonize.rewiden import LakeBatchMismatch, NotWidenableFromLake, widen_batch, widening_risks
from kx_lake.lib.harmonize.roundtrip import check_round_trip, leaf_values
from kx_lake.lib.harmonize.types import LakeType, StructType, from_json
from kx_lake.lib.harmonize.widen import columns_to_rewrite, is_widening, merge

__all__ = [
    "OVERFLOW_FIELD",
    "VALUE_FIELD",
    "Converter",
    "HarmonizeError",
    "LakeBatchMismatch",
    "LakeType",
    "NotWidenableFromLake",
    "SchemaAccumulator",
    "StructType",
    "check_round_trip",
    "column_name",
    "columns_to_rewrite",
    "from_json",
    "is_widening",
    "leaf_values",
    "merge",
    "widen_batch",
    "widening_risks",
]
