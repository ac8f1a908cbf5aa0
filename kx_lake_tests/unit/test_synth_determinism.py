"""Same (seed, scale, as_of, env) -> byte-identical documents, _ids included; another seed or another
environment -> different documents. Compared through a hash of every BSON-encoded document."""

from __future__ import annotations

import hashlib
from datetime import date

import bson
import pytest
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.synth import generate_environment
from kx_lake.lib.synth.world import build_world

pytestmark = pytest.mark.slow  # three generated years (~10 s)
AS_OF = date(2026, 2, 1)
SCALE = 0.001


def fingerprint(project: ProjectConfig, env: str, seed: int) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    for batch in generate_environment(project, env, scale=SCALE, seed=seed, as_of=AS_OF):
        h.update(batch.collection.encode())
        for doc in batch.docs:
            h.update(bson.encode(doc))
            n += 1
    return h.hexdigest(), n


@pytest.fixture(scope="module")
def project(repo_project: ProjectConfig) -> ProjectConfig:
    return repo_project


@pytest.fixture(scope="module")
def baseline(project) -> tuple[str, int]:
    return fingerprint(project, "env1", 42)


def test_same_inputs_give_identical_documents(project, baseline):
    assert fingerprint(project, "env1", 42) == baseline
    assert baseline[1] > 5000


def test_another_seed_gives_other_documents(project, baseline):
    assert fingerprint(project, "env1", 7)[0] != baseline[0]


def test_another_environment_gets_another_world():
    mine, other = build_world(42, "env1", SCALE), build_world(42, "env2", SCALE)
    assert len(mine.facilities) == len(other.facilities) == 30
    assert {f.name for f in mine.facilities} != {f.name for f in other.facilities}
    assert [d.name for d in build_world(42, "env1", SCALE).doctors] == [d.name for d in mine.doctors]
