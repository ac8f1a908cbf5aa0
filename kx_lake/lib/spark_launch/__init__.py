"""Launching the Spark engine outside this process: jars for s3a, the Glue 5.0 / EMR job requests.

Knows nothing of Dagster (the Pipes clients that send these requests are built in
kx_lake.builders.spark_launch; the job script the cluster runs is kx_lake.spark_job). What runs
inside the Spark session is kx_lake.lib.spark, the engine core.
"""
