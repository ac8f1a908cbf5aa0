"""Run metadata, kept outside the 102 configured collections (database kx_synth_meta): one `runs`
document per environment (seed, scale, simulated window, domain state such as stock balances) and the
`open_items` still in flight (future appointments, pending results and claims, current inpatients).

Open items are looked up by environment, which scans; that is fine for a metadata collection of a few
thousand documents, and the configured collections are only ever touched by `_id`.
"""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient

META_DB = "kx_synth_meta"
RUNS = "runs"
OPEN_ITEMS = "open_items"


def load_run(client: MongoClient, env: str) -> dict[str, Any] | None:
    return client[META_DB][RUNS].find_one({"_id": env})


def load_open_items(client: MongoClient, env: str) -> list[dict[str, Any]]:
    return [{"kind": d["kind"], "due_ms": d["due_ms"], "data": d["data"]}
            for d in client[META_DB][OPEN_ITEMS].find({"env": env})]


def save(client: MongoClient, env: str, run: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """Replace the environment's run document and open items."""
    db = client[META_DB]
    db[OPEN_ITEMS].delete_many({"env": env})
    docs = [{"_id": f"{env}|{it['kind']}|{it['data']['_id']}", "env": env, **it} for it in items]
    for i in range(0, len(docs), 2000):
        db[OPEN_ITEMS].insert_many(docs[i:i + 2000], ordered=False)
    db[RUNS].replace_one({"_id": env}, {"_id": env, **run}, upsert=True)


def forget(client: MongoClient, env: str) -> None:
    client[META_DB][OPEN_ITEMS].delete_many({"env": env})
    client[META_DB][RUNS].delete_one({"_id": env})
