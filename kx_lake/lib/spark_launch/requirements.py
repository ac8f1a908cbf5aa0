"""What a cluster installs beside the package wheel: the distributions the job script imports, pinned.

Glue and EMR already ship Spark (pyspark, py4j); installing the wheel with its declared dependencies
would pull Dagster's webserver, Trino's client, a Java runtime and a second pyspark onto every node.
So the wheel goes with `--no-deps` and this list names exactly what `kx_lake.spark_job` imports
(kx_lake_tests/unit/test_spark_job_requirements.py checks it against a fresh interpreter's modules),
pinned to the versions installed here, which are requirements.lock's.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# Provided by Glue 5.0 and EMR 7.x (Spark 3.5.4 / 3.5.x): never installed over them.
PROVIDED = frozenset({"pyspark", "py4j", "setuptools"})

CLUSTER_PACKAGES = (
    "aiobotocore", "aiohappyeyeballs", "aiohttp", "aioitertools", "aiosignal", "annotated-types", "anyio",
    "attrs", "boto3", "botocore", "certifi", "click", "dagster-pipes", "dnspython", "frozenlist", "fsspec",
    "h11", "httpcore", "httpx", "idna", "jmespath", "lz4", "markdown-it-py", "mdurl", "multidict", "numpy",
    "pandas", "propcache", "pyarrow", "pydantic", "pydantic-core", "pygments", "pymongo", "python-dateutil",
    "pytz", "pyyaml", "rich", "s3fs", "s3transfer", "six", "typing-extensions", "typing-inspection", "tzdata",
    "urllib3", "wrapt", "yarl", "zstandard",
)


def cluster_requirements() -> list[str]:
    """`name==version` for every cluster package, as installed here (the lock's pins)."""
    pins = []
    for name in CLUSTER_PACKAGES:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError as exc:
            raise RuntimeError(f"{name} is not installed here; run `make setup` (requirements.lock)") from exc
    return pins
