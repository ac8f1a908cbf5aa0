"""Deterministic synthetic HIMS data for every configured collection (see api.py for the entry points,
messes.py for the deliberate messes, registry.py for which module writes which collection)."""

from kx_lake.lib.synth.api import (
                                   MutateReport,
                                   SeedReport,
                                   counts,
                                   default_as_of,
                                   generate_environment,
                                   mutate_environment,
                                   seed_environment,
)
from kx_lake.lib.synth.engine import SynthError
from kx_lake.lib.synth.messes import MESSES, Mess
from kx_lake.lib.synth.meta import META_DB
from kx_lake.lib.synth.registry import PRODUCERS
from kx_lake.lib.synth.sink import Batch

__all__ = [
    "MESSES",
    "META_DB",
    "PRODUCERS",
    "Batch",
    "Mess",
    "MutateReport",
    "SeedReport",
    "SynthError",
    "counts",
    "default_as_of",
    "generate_environment",
    "mutate_environment",
    "seed_environment",
]
