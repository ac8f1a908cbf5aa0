"""Configuration validation: every error names the file, row and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kx_lake.lib.config import ConfigError, ConfigErrors, ProjectConfig, Settings, UnknownEnvironmentError
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR

HEADER = "collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled\n"


def load(config_dir: Path) -> ProjectConfig:
    return ProjectConfig.load(Settings.resolve(config_dir, environ={}))


def write_rows(config_dir: Path, *rows: str) -> Path:
    path = config_dir / "collections.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def only_error(exc: pytest.ExceptionInfo) -> ConfigError:
    err = exc.value
    if isinstance(err, ConfigErrors):
        assert len(err.errors) == 1, str(err)
        return err.errors[0]
    return err


def test_shipped_config_is_valid() -> None:
    cfg = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ={}))
    assert len(cfg.collections) == 102
    assert len({c.collection for c in cfg.collections}) == 102
    assert {e.name for e in cfg.active_environments} == {"env1", "env2"}
    assert "env3" in cfg.environments and not cfg.environments["env3"].active
    assert all(len(c.partition_columns) <= 2 for c in cfg.collections)
    assert {c.database for c in cfg.collections} == set(cfg.databases)
    assert {c.timestamp_encoding.value for c in cfg.collections} == {"date", "epoch_ms", "iso_string"}


def test_duplicate_collection_names_both_rows(config_dir: Path) -> None:
    path = write_rows(config_dir, "bills,hims_billing,updated_at,date,facility_id,true",
                      "bills,hims_billing,updated_at,date,facility_id,true")
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    err = only_error(exc)
    assert (err.file, err.row, err.field) == (str(path), 3, "collection")
    assert "duplicate collection 'bills' (first on row 2)" in str(err)


def test_unknown_database(config_dir: Path) -> None:
    write_rows(config_dir, "bills,hims_nowhere,updated_at,date,facility_id,true")
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    err = only_error(exc)
    assert (err.row, err.field) == (2, "database")
    assert "unknown database 'hims_nowhere'" in str(err) and "hims_billing" in str(err)


def test_empty_timestamp_column(config_dir: Path) -> None:
    write_rows(config_dir, "bills,hims_billing,,date,facility_id,true")
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    err = only_error(exc)
    assert (err.row, err.field) == (2, "timestamp_column")
    assert "collections.csv, row 2, field 'timestamp_column': must not be empty" in str(err)


def test_more_than_two_partition_columns(config_dir: Path) -> None:
    write_rows(config_dir, "bills,hims_billing,updated_at,date,facility_id;ward_id;bed_id,true")
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    err = only_error(exc)
    assert (err.row, err.field) == (2, "partition_columns")
    assert "at most 2" in str(err)


@pytest.mark.parametrize(
    ("row", "field", "text"),
    [
        ("bills,hims_billing,updated_at,date,facility_id,perhaps", "enabled", "(true/false, yes/no, 1/0, on/off), got 'perhaps'"),
        ("bills,hims_billing,updated_at,date,facility_id,", "enabled", "valid boolean"),
        ("bills,hims_billing,updated_at,weekly,facility_id,true", "timestamp_encoding", "date"),
        ("bad name,hims_billing,updated_at,date,facility_id,true", "collection", "lowercase letters"),
        ("bills,hims_billing,updated_at,date,facility id,true", "partition_columns", "plain top-level field"),
        ("bills,hims_billing,updated_at,date,facility_id;facility_id,true", "partition_columns", "twice"),
    ],
)
def test_malformed_cells(config_dir: Path, row: str, field: str, text: str) -> None:
    write_rows(config_dir, row)
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    err = only_error(exc)
    assert (err.row, err.field) == (2, field)
    assert text in str(err)


@pytest.mark.parametrize(("cell", "enabled"), [("true", True), ("TRUE", True), ("Yes", True), ("1", True), ("on", True),
                                               ("false", False), ("No", False), ("0", False), ("off", False)])
def test_enabled_accepts_the_usual_spellings(config_dir: Path, cell: str, enabled: bool) -> None:
    write_rows(config_dir, f"bills,hims_billing,updated_at,date,facility_id,{cell}")
    [spec] = load(config_dir).collections
    assert spec.enabled is enabled


def test_ragged_rows_and_missing_header_columns(config_dir: Path) -> None:
    write_rows(config_dir, "bills,hims_billing,updated_at,date,facility_id,true,extra",
               "payments,hims_billing,updated_at")
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    rows = [(e.row, e.message.split(" (")[0]) for e in exc.value.errors]
    assert rows == [(2, "more cells than header columns"), (3, "fewer cells than header columns")]

    (config_dir / "collections.csv").write_text("collection,database\nbills,hims_billing\n")
    with pytest.raises(ConfigError, match=r"row 1: header lacks required column\(s\) timestamp_column"):
        load(config_dir)


def test_all_errors_reported_in_one_pass(config_dir: Path) -> None:
    write_rows(config_dir, "bills,hims_billing,,date,,true", "refunds,hims_nowhere,updated_at,date,,true")
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    assert [(e.row, e.field) for e in exc.value.errors] == [(2, "timestamp_column"), (3, "database")]


def test_environment_errors_name_the_field(config_dir: Path) -> None:
    path = config_dir / "environments.yaml"
    path.write_text(path.read_text().replace("timezone: Asia/Kolkata", "timezone: Mars/Olympus", 1))
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    err = only_error(exc)
    assert err.field == "environments.env1.timezone" and "Mars/Olympus" in str(err)


def test_secret_values_are_not_config(config_dir: Path) -> None:
    path = config_dir / "environments.yaml"
    path.write_text(path.read_text().replace(
        "mongodb_uri_secret: KX_LAKE_ENV1_MONGODB_URI", "mongodb_uri_secret: mongodb://u:p@host/", 1))
    with pytest.raises(ConfigErrors) as exc:
        load(config_dir)
    assert only_error(exc).field == "environments.env1.mongodb_uri_secret"


def test_unknown_and_inactive_environments_are_refused(config_dir: Path) -> None:
    cfg = load(config_dir)
    with pytest.raises(UnknownEnvironmentError, match="unknown environment 'env9'.*valid environments: env1, env2"):
        cfg.environment("env9")
    with pytest.raises(UnknownEnvironmentError, match="'env3' is inactive.*active environments: env1, env2"):
        cfg.environment("env3")
    assert cfg.environment("env3", allow_inactive=True).name == "env3"


def test_settings_resolution_and_lake_root(tmp_path: Path, config_dir: Path) -> None:
    settings = Settings.resolve(environ={"KX_LAKE_CONFIG_DIR": str(config_dir)})
    assert settings.config_dir == config_dir and settings.home == config_dir.parent / ".kx-lake"
    cfg = ProjectConfig.load(settings)
    assert cfg.lake_root(cfg.environment("env1")) == str(config_dir.parent / ".kx-lake" / "lake")

    override = Settings.resolve(config_dir, environ={"KX_LAKE_HOME": str(tmp_path / "h"), "KX_LAKE_ROOT": "s3://b/lake/"})
    cfg2 = ProjectConfig.load(override)
    assert override.home == tmp_path / "h"
    assert cfg2.lake_root(cfg2.environment("env2")) == "s3://b/lake"
