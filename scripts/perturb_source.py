"""Make an environment's MongoDB drift the way an incremental sync cannot see: deletions and backdated
writes (the issue-10 check: then `kx-lake sync`, `kx-lake reconcile`, scripts/compare_lake_source.py).

Usage: .venv/bin/python scripts/perturb_source.py ENV [--collections N] [--delete K] [--backdate K]
       [--days-back D] [--seed S]
In N collections (chosen by the seed among those with a BSON date timestamp and at least 2K documents):
deletes K documents each, and inserts K copies of other documents each with a new `_id` and the
timestamp moved D days back (before any look-back). Prints one JSON line of what it did.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import MongoClient

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.source.uri import resolve_mongo_uri


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env")
    parser.add_argument("--collections", type=int, default=4)
    parser.add_argument("--delete", type=int, default=3)
    parser.add_argument("--backdate", type=int, default=2)
    parser.add_argument("--days-back", type=int, default=60)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    project = ProjectConfig.load(Settings.resolve())
    client = MongoClient(resolve_mongo_uri(project, args.env), tz_aware=True)
    rng = random.Random(args.seed)
    need = 2 * (args.delete + args.backdate)
    candidates = []
    for spec in project.enabled_collections:
        coll = client[spec.database][spec.collection]
        sample = coll.find_one({spec.timestamp_column: {"$type": "date"}})
        if spec.timestamp_encoding == "date" and sample and coll.estimated_document_count() >= need:
            candidates.append(spec)
    done = {"env": args.env, "deleted": 0, "backdated": 0, "collections": []}
    for spec in rng.sample(candidates, min(args.collections, len(candidates))):
        coll = client[spec.database][spec.collection]
        # old enough to stay after partitions_start once moved back (else it would be a reject, not a backdate)
        floor = datetime.combine(project.partitions_start, datetime.min.time(), UTC) + timedelta(args.days_back + 2)
        found = coll.find({spec.timestamp_column: {"$type": "date", "$gte": floor}})
        docs = list(found.sort("_id", 1).limit(need * 10))
        if len(docs) < args.delete + args.backdate:
            continue
        picked = rng.sample(docs, args.delete + args.backdate)
        gone = [d["_id"] for d in picked[:args.delete]]
        coll.delete_many({"_id": {"$in": gone}})
        copies = []
        for doc in picked[args.delete:]:
            ts: datetime = doc[spec.timestamp_column]
            copies.append({**doc, "_id": ObjectId(), spec.timestamp_column: ts - timedelta(days=args.days_back)})
        coll.insert_many(copies)
        done["deleted"] += len(gone)
        done["backdated"] += len(copies)
        done["collections"].append(f"{spec.database}.{spec.collection}")
    client.close()
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
