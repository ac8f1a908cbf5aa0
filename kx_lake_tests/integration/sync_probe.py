"""Run stage + publish for one collection × environment in a fresh interpreter and report its peak
memory, for test_lake_memory.py. Configuration comes from the environment (KX_LAKE_CONFIG_DIR,
KX_LAKE_HOME, KX_LAKE_ROOT), the source from the environment's URI resolution (the local server).

    python -m kx_lake_tests.integration.sync_probe ENV COLLECTION FIRST LAST
prints one JSON line: rows, files, seconds, rss_before_kb (after imports, before the sync),
staged_peak_kb (the peak when staging ended, before publication) and maxrss_kb: this program's own
peak (VmHWM, Linux, KiB). Not ru_maxrss: Linux carries the parent's peak
across the exec, so a probe spawned by a large pytest process would report the session's size and
hide any growth below it (fixtures/own_peak.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from pymongo import MongoClient

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.lake.pipeline import publish_staged, stage_collection
from kx_lake.lib.source.uri import resolve_mongo_uri
from kx_lake_tests.fixtures.own_peak import peak_kb


def main(env: str, collection: str, first: str, last: str) -> dict:
    project = ProjectConfig.load(Settings.resolve())
    spec = project.collection(collection)
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    dates = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    client = MongoClient(resolve_mongo_uri(project, env), tz_aware=True)
    client.admin.command("ping")
    rss_before = peak_kb()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as staging:
        staged = stage_collection(client=client, project=project, env=env, spec=spec, dates=dates,
                                  staging_dir=Path(staging))
        staged_peak = peak_kb()
        published = publish_staged(project, staged)
    client.close()
    return {
        "rows": staged.rows,
        "files": len(published.files),
        "seconds": round(time.monotonic() - started, 2),
        "rss_before_kb": rss_before,
        "staged_peak_kb": staged_peak,
        "maxrss_kb": peak_kb(),
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
