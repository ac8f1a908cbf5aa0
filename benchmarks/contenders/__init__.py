"""The three contenders, each run as `python -m benchmarks.contenders NAME PLAN.json` in its own
process (clean peak RSS, no warm caches shared with the others). A contender reads the plan (env,
collections, windows), does its work and prints one JSON line: documents, bytes, failures."""
