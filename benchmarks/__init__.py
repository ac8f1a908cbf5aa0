"""kx-lake benchmarks: throughput against the read ceiling and against dlt, on the same data.

`python -m benchmarks.run --scale 1` (or `make bench`) is the one command; see docs/benchmarks.md.
`harmonize_bench.py` is the older single-core micro-benchmark of inference + conversion.
"""
