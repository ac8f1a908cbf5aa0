"""The EMR RunJobFlow request for an environment's Spark sync: a transient cluster, one step.

Why it is shaped this way:

* A cluster per run (`KeepJobFlowAliveWhenNoSteps: False`, `ActionOnFailure: TERMINATE_CLUSTER`):
  dagster-aws's PipesEMRClient waits for the cluster to terminate and reads the Pipes messages from S3,
  so nothing is left running or billed after a sync.
* EMR 7.x runs Spark 3.5 on Amazon Linux 2023, whose system Python is 3.9; the bootstrap action
  (`emr-bootstrap.sh`, uploaded beside the script) installs Python 3.11 and the wheel with the same
  pins as Glue, and `spark.pyspark.python` on the step points Spark's driver and executors at it.
* The step is `spark-submit --deploy-mode cluster` of kx_lake/spark_job.py; PipesEMRClient adds the
  Pipes context as environment variables through `Configurations` (spark-defaults, spark-env,
  yarn-env, hadoop-env). The request sets none of those classifications itself: dagster-aws 0.29.27
  merges its variables into an existing one of the same classification incorrectly (they are lost).
"""

from __future__ import annotations

from typing import Any

from kx_lake.lib.spark_launch.config import EmrLaunch

PYTHON = "/usr/local/bin/python3.11"
BOOTSTRAP_NAME = "emr-bootstrap.sh"


def run_job_flow_params(launch: EmrLaunch, env: str) -> dict[str, Any]:
    return {
        "Name": f"kx-lake-{env}-spark-sync",
        "LogUri": launch.log_uri,
        "ReleaseLabel": launch.release_label,
        "Applications": [{"Name": "Spark"}],
        "Instances": {
            "MasterInstanceType": launch.instance_type,
            "SlaveInstanceType": launch.instance_type,
            "InstanceCount": launch.instance_count,
            "KeepJobFlowAliveWhenNoSteps": False,
            "TerminationProtected": False,
        },
        "BootstrapActions": [{
            "Name": "kx-lake: Python 3.11 and the package",
            "ScriptBootstrapAction": {"Path": launch.artifacts + BOOTSTRAP_NAME, "Args": [launch.wheel_uri]},
        }],
        "Steps": [{
            "Name": f"kx-lake sync {env}",
            "ActionOnFailure": "TERMINATE_CLUSTER",
            "HadoopJarStep": {"Jar": "command-runner.jar",
                              "Args": ["spark-submit", "--deploy-mode", "cluster", "--master", "yarn",
                                       "--conf", f"spark.pyspark.python={PYTHON}",
                                       "--conf", f"spark.pyspark.driver.python={PYTHON}", launch.script_uri]},
        }],
        "JobFlowRole": launch.job_flow_role,
        "ServiceRole": launch.service_role,
        "VisibleToAllUsers": True,
        "Tags": [{"Key": "kx-lake:env", "Value": env}],
    }
