"""The jars Spark needs for s3a:// lakes, fetched once from Maven Central into a shared cache.

Why it is shaped this way:

* pyspark's wheel bundles Hadoop 3.3.4 but not its S3 connector. `hadoop-aws:3.3.4` (and the
  `aws-java-sdk-bundle:1.12.262` it was built against) are declared in `s3a-jars.pom.xml` beside this
  module and copied by Maven's own client (`mvn dependency:copy-dependencies`), so mirrors, proxies
  and ~/.m2 behave as for any Maven download. Spark never resolves packages at run time
  (`spark.jars.packages` is not used): the session gets `spark.jars` = the cached files.
* The cache lives outside the work tree (`$KX_LAKE_SPARK_JARS`, else
  `$XDG_CACHE_HOME/kx-lake/spark-jars`, else `~/.cache/kx-lake/spark-jars`), shared by every checkout,
  test session and CI step. A directory per pom digest, renamed into place when complete and holding a
  marker, so an interrupted download never looks installed; a file lock serialises installers.
* On Glue 5.0 and EMR the runtime already has hadoop-aws (they read `s3://` natively), so these jars
  are for local masters, standalone clusters and Spark Connect servers you run yourself.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

POM = Path(__file__).with_name("s3a-jars.pom.xml")
MARKER = ".kx-lake-installed"
EXPECTED = ("hadoop-aws-3.3.4.jar", "aws-java-sdk-bundle-1.12.262.jar")


class SparkJarsError(RuntimeError):
    """The jars could not be fetched; the message says what was run and what failed."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("KX_LAKE_SPARK_JARS"):
        return Path(env["KX_LAKE_SPARK_JARS"]).expanduser().resolve()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return (base / "kx-lake" / "spark-jars").resolve()


def _target(cache: Path) -> Path:
    return cache / hashlib.sha256(POM.read_bytes()).hexdigest()[:12]


def installed(cache: Path | None = None) -> list[Path] | None:
    """The cached jars (sorted), or None when the set-up has not fetched them."""
    target = _target(cache or cache_dir())
    if not (target / MARKER).is_file():
        return None
    return sorted(target.glob("*.jar"))


def ensure_jars(cache: Path | None = None, *, mvn: str = "mvn", log=print) -> list[Path]:
    """The cached jars, downloading them first when missing (idempotent)."""
    cache = cache or cache_dir()
    found = installed(cache)
    if found:
        return found
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = installed(cache)
        if found:
            return found
        if shutil.which(mvn) is None:
            raise SparkJarsError(f"Maven ({mvn!r}) is not on PATH; it fetches hadoop-aws and the AWS SDK bundle "
                                 "from Maven Central (Debian: apt-get install maven; `make setup` does it)")
        with tempfile.TemporaryDirectory(prefix=".jars-", dir=cache) as tmp:
            out = Path(tmp) / "jars"
            cmd = [mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime",
                   f"-DoutputDirectory={out}"]
            log("[spark] fetching hadoop-aws 3.3.4 + aws-java-sdk-bundle 1.12.262 from Maven Central (~280 MB, once)")
            done = subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            missing = [name for name in EXPECTED if not (out / name).is_file()]
            if done.returncode != 0 or missing:
                tail = (done.stdout + done.stderr).strip()[-2000:]
                raise SparkJarsError(f"`{' '.join(cmd)}` failed (exit {done.returncode}, missing {missing}):\n{tail}")
            (out / MARKER).write_text("\n".join(sorted(p.name for p in out.glob("*.jar"))) + "\n")
            target = _target(cache)
            if target.exists():  # a leftover without marker from an interrupted install
                shutil.rmtree(target)
            os.replace(out, target)
    return installed(cache) or []


def s3a_conf(jars: list[Path], *, endpoint_url: str | None = None, region: str | None = None,
             path_style: bool = False) -> dict[str, str]:
    """Spark settings for s3a:// with the cached jars. Credentials come from the default AWS chain
    (environment, profile, instance role): never from config, so no secret is ever in a Spark conf."""
    conf = {
        "spark.jars": ",".join(str(p) for p in jars),
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider":
            "com.amazonaws.auth.DefaultAWSCredentialsProviderChain",
    }
    if endpoint_url:  # SeaweedFS, MinIO or a VPC endpoint
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint_url
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint_url.startswith("https")).lower()
    if region:
        conf["spark.hadoop.fs.s3a.endpoint.region"] = region
    if path_style:
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
    return conf
