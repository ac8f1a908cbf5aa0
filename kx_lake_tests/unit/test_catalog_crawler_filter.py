"""Crawler mode leaves out collections whose latest sync in that environment failed (as the original
job filtered failed collections out of the crawler's targets)."""

from __future__ import annotations

import dagster as dg

from kx_lake.builders.catalog_assets import failed_last

KEY = dg.AssetKey(["hims_billing", "bills"])


def observe_failure(instance: dg.DagsterInstance, partition: str) -> None:
    instance.report_runless_asset_event(
        dg.AssetObservation(KEY, partition=partition, metadata={"status": "failed", "error": "boom"}))


def materialize(instance: dg.DagsterInstance, partition: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(KEY, partition=partition, metadata={"rows": 1}))


def test_latest_event_decides_per_environment() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        assert not failed_last(instance, KEY, "env1")  # never synced: nothing failed
        materialize(instance, "2026-01-01|env1")
        observe_failure(instance, "2026-01-02|env2")
        assert not failed_last(instance, KEY, "env1")
        assert failed_last(instance, KEY, "env2")
        observe_failure(instance, "2026-01-02|env1")
        assert failed_last(instance, KEY, "env1")
        materialize(instance, "2026-01-02|env1")  # a later successful sync clears it
        assert not failed_last(instance, KEY, "env1")
