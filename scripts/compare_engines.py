"""Compare every `_latest` view and dataset of an env between its DuckDB catalog and Trino, row by row.

Usage (after `kx-lake catalog refresh --env E` and `kx-lake catalog refresh --env E --engine trino`):
    PYTHONPATH=. .venv/bin/python scripts/compare_engines.py env1 [relation-name ...]
Prints one line per relation (rows on each engine, OK/BAD), the percentile columns' differences, and
the number equal; the comparison is kx_lake_tests/fixtures/engine_compare.py (the cross-engine test's).
"""
import sys
import time

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.catalog import duckdb_catalog, names, views
from kx_lake.lib.catalog.trino_catalog import TrinoCatalog
from kx_lake.lib.trino import client, server
from kx_lake_tests.fixtures.engine_compare import compare
env = sys.argv[1] if len(sys.argv) > 1 else "env1"
project = ProjectConfig.load(Settings.resolve())
duck = duckdb_catalog.connect(project, env)
tcon = client.connect(server.require(project.settings.home))
trino = TrinoCatalog(project, env, tcon)
spec = project.environment(env)
rels = [f"{names.glue_database(spec, s.database)}.{names.latest_view_name(s)}" for s in project.enabled_collections]
rels += [v.name for v in views.load_datasets(project, env)]
ok = 0
only = sys.argv[2:]
if only: rels = [r for r in rels if r.split(".")[1] in only]
for rel in rels:
    t = time.time()
    d = duck.execute(f"SELECT * FROM {rel}")
    cols = [c[0] for c in d.description]; drows = d.fetchall()
    trows = trino.query(f"SELECT * FROM {rel}").rows
    c = compare(rel, cols, drows, trows, approx={"median_los_days", "p90_waiting_minutes"}, approx_rel=0.5)
    ok += c.equal
    print(f"{'OK ' if c.equal else 'BAD'} {rel}: duckdb {c.rows} rows, trino {c.other_rows} rows ({time.time()-t:.1f}s)")
    for m in c.mismatches: print("   ", m[:400])
    for col in ("median_los_days", "p90_waiting_minutes"):
        if col in cols:
            i = cols.index(col)
            ds = sorted(drows, key=lambda r: [str(v) for j, v in enumerate(r) if j != i]); ts = sorted(trows, key=lambda r: [str(v) for j, v in enumerate(r) if j != i])
            diffs = [abs(a[i]-b[i])/max(abs(a[i]),abs(b[i]),1e-9) for a, b in zip(ds, ts) if a[i] is not None and b[i] is not None]
            print(f"    {col}: {sum(d > 1e-9 for d in diffs)} of {len(diffs)} differ; max rel diff {max(diffs, default=0):.4f}")
print(f"{ok}/{len(rels)} equal")
