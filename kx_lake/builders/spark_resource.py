"""The Spark engine's session as a Dagster resource, built on dagster-pyspark's lazy resource.

The session's settings belong to the environment being synced (environments.yaml: `spark.master`,
`spark.conf`), so the resource makes dagster-pyspark's `LazyPySparkResource` for that environment
when a spark-engine step first asks, and nothing at all for local-engine runs. dagster-pyspark has
no teardown: the session this resource started is stopped when the run ends; one it found already
running (a test session's shared `local[2]`, a notebook's) is left running.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from kx_lake.builders.resources import ProjectResource
from kx_lake.lib.spark.java import use_spark_java
from kx_lake.lib.spark.session import session_config, use_this_python

ENGINE_TAG = "kx_lake/engine"  # a run's engine override (kx-lake sync --engine), else environments.yaml


class SparkEngineResource(dg.ConfigurableResource):
    """A SparkSession per run for the spark engine (dagster-pyspark), configured from the environment."""

    kx_project: ProjectResource
    _pyspark: Any = PrivateAttr(default=None)  # dagster_pyspark.LazyPySparkResource, made on first use
    _started_here: bool = PrivateAttr(default=False)

    def session(self, env: str) -> Any:
        if self._pyspark is None:
            from dagster_pyspark import LazyPySparkResource  # imports pyspark: spark-engine runs only
            from pyspark.sql import SparkSession

            already = SparkSession.getActiveSession()
            conf = session_config(self.kx_project.project.environment(env))
            use_this_python(conf)
            if already is None:  # the JVM is started here: a Java 17/21 (JAVA_HOME), whatever `java` is
                use_spark_java()
            self._pyspark = LazyPySparkResource(spark_config=conf)
            session = self._pyspark.spark_session  # getOrCreate: a running session is reused as it is
            self._started_here = already is None
            return session
        return self._pyspark.spark_session

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._pyspark is not None and self._started_here:
            self._pyspark.spark_session.stop()
        self._pyspark = None


def engine_for(project, env: str, tags: dict[str, str]) -> str:  # noqa: ANN001
    """The run's engine for `env`: the run tag if set (validated), else the environment's `engine`."""
    chosen = tags.get(ENGINE_TAG)
    if chosen is None:
        return project.environment(env).engine
    if chosen not in ("local", "spark"):
        raise dg.Failure(f"run tag {ENGINE_TAG}={chosen!r}: expected 'local' or 'spark'")
    return chosen
