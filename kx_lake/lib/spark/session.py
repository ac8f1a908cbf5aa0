"""The Spark configuration of an environment's session (handed to dagster-pyspark's resource).

A local master runs its Python workers with this interpreter, so the tasks import the same kx_lake
and libraries as the driver; without it Spark would start whatever `python3` is first on PATH. An
in-process SparkContext takes the workers' interpreter from PYSPARK_PYTHON only (spark.pyspark.python
is read by spark-submit), so `use_this_python` sets it, when the session is made, never at import. The UI stays off locally (a port per test session is noise).
"""

from __future__ import annotations

import os
import sys

from kx_lake.lib.config import EnvironmentSpec

_LOCAL_DEFAULTS = {
    "spark.driver.memory": "1g",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.showConsoleProgress": "false",
}


def session_config(env: EnvironmentSpec) -> dict[str, str]:
    """spark.* settings for `env`'s session: its master, local defaults, then its own `conf`."""
    settings = env.spark
    conf: dict[str, str] = {"spark.master": settings.master}
    if settings.master.startswith("local"):
        conf.update(_LOCAL_DEFAULTS)
        conf["spark.pyspark.python"] = sys.executable
        conf["spark.pyspark.driver.python"] = sys.executable
    conf.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.conf.items()})
    return conf


def use_this_python(conf: dict[str, str]) -> None:
    """For a local master: workers run this interpreter (PYSPARK_PYTHON, unless already set)."""
    if conf.get("spark.master", "").startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", conf.get("spark.pyspark.python", sys.executable))
