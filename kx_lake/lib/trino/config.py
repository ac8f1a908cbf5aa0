"""The files a single-node Trino needs, generated per start under `<KX_LAKE_HOME>/trino/etc/`.

`config.properties` holds the node and server settings (loopback only, a free port chosen per start,
the coordinator also schedules work), `catalog/lake.properties` the one Hive catalog: a file
metastore under `<KX_LAKE_HOME>/trino/metastore/` and Trino's native local file system rooted at `/`,
so a table's `external_location` is `local:///<lake dir>`. The JVM flags are those Trino documents
for its server, with a 2 GB heap (a laptop's share; the lake's datasets are small aggregates).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from kx_lake.lib.trino.install import TrinoInstall
from kx_lake.lib.trino.java import Java

CATALOG = "lake"  # the Hive catalog over the lake
HEAP = "2G"


def state_dir(home: Path) -> Path:
    """`<KX_LAKE_HOME>/trino`."""
    return home / "trino"


def metastore_dir(home: Path) -> Path:
    return state_dir(home) / "metastore"


def write_config(home: Path, install: TrinoInstall, port: int) -> Path:
    """Generate etc/ for this start (the port changes); returns etc/config.properties."""
    etc = state_dir(home) / "etc"
    (etc / "catalog").mkdir(parents=True, exist_ok=True)
    metastore_dir(home).mkdir(parents=True, exist_ok=True)
    node_id = _node_id(home)
    config = {
        "node.environment": "kx_lake",
        "node.id": node_id,
        "node.bind-ip": "127.0.0.1",
        "node.internal-address": "127.0.0.1",
        "coordinator": "true",
        "node-scheduler.include-coordinator": "true",
        "http-server.http.port": str(port),
        "discovery.uri": f"http://127.0.0.1:{port}",
        "plugin.dir": str(install.plugin_dir),
        "catalog.config-dir": str(etc / "catalog"),
        "query.max-memory": "1GB",
        "query.max-memory-per-node": "1GB",
    }
    catalog = {
        "connector.name": "hive",
        "hive.metastore": "file",
        "hive.metastore.catalog.dir": f"local://{metastore_dir(home)}",
        "fs.native-local.enabled": "true",
        "local.location": "/",
        "hive.non-managed-table-writes-enabled": "false",
        "hive.recursive-directories": "false",
    }
    _write_properties(etc / "config.properties", config)
    _write_properties(etc / "catalog" / f"{CATALOG}.properties", catalog)
    return etc / "config.properties"


def _node_id(home: Path) -> str:
    path = state_dir(home) / "node.id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"kx-lake-{uuid.uuid4().hex[:12]}\n")
    return path.read_text().strip()


def _write_properties(path: Path, values: dict[str, str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    os.replace(tmp, path)


def command(java: Java, install: TrinoInstall, config: Path) -> list[str]:
    return [
        str(java.executable), "-server", f"-Xmx{HEAP}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
        "-Djdk.attach.allowAttachSelf=true", "--enable-native-access=ALL-UNNAMED",
        "-XX:ReservedCodeCacheSize=256M", "-Dfile.encoding=UTF-8",
        f"-Dconfig={config}", "-cp", f"{install.lib_dir}/*", "io.trino.server.TrinoServer",
    ]
