"""Configuration a later stage would trip over is refused at load time, naming file, row or key, and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kx_lake.lib.config import ConfigError, ConfigErrors, ProjectConfig, Settings
from kx_lake.lib.dashboards.tenants import Tenants

HEADER = "collection,database,timestamp_column,timestamp_encoding,partition_columns,enabled\n"
ROW = "bills,hims_billing,updated_at,date,facility_id,true"


def load(config_dir: Path) -> ProjectConfig:
    return ProjectConfig.load(Settings.resolve(config_dir, environ={}))


def errors_of(config_dir: Path) -> list[ConfigError]:
    with pytest.raises((ConfigError, ConfigErrors)) as info:
        load(config_dir)
    return info.value.errors if isinstance(info.value, ConfigErrors) else [info.value]


def one_error(config_dir: Path) -> ConfigError:
    errors = errors_of(config_dir)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def write_csv(config_dir: Path, text: str) -> Path:
    path = config_dir / "collections.csv"
    path.write_text(text)
    return path


# --- files that are not UTF-8 -------------------------------------------------------------------------


def test_collections_csv_not_utf8(config_dir: Path) -> None:
    path = config_dir / "collections.csv"
    path.write_bytes((HEADER + ROW + "\n").encode() + "caf\u00e9s,hims_billing,updated_at,date,,true\n".encode("latin-1"))
    err = one_error(config_dir)
    assert err.file == str(path) and err.row == 3
    assert "not UTF-8" in err.message and "0xe9" in err.message and "line 3" in err.message


def test_environments_yaml_not_utf8(config_dir: Path) -> None:
    path = config_dir / "environments.yaml"
    path.write_bytes(path.read_text().encode("utf-16"))
    err = one_error(config_dir)
    assert err.file == str(path) and "not UTF-8" in err.message


def test_tenants_yaml_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "tenants.yaml"
    path.write_bytes("tenants:\n  env1:\n    G1: {name: Caf\u00e9, facility_ids: [F1]}\n".encode("cp1252"))
    with pytest.raises(ConfigErrors, match=r"tenants.yaml: not UTF-8: byte 0xe9 at line 3"):
        Tenants.load(path)


# --- CSV headers --------------------------------------------------------------------------------------


def test_duplicate_csv_header(config_dir: Path) -> None:
    write_csv(config_dir, HEADER.strip() + ",enabled\n" + ROW + ",false\n")
    err = one_error(config_dir)
    assert (err.row, err.field) == (1, "enabled") and "appears twice" in err.message


def test_misspelled_csv_header_is_named_with_a_suggestion(config_dir: Path) -> None:
    write_csv(config_dir, HEADER.strip() + ",pii_colums\n" + ROW + ",name\n")
    err = one_error(config_dir)
    assert (err.row, err.field) == (1, "pii_colums")
    assert "unknown column" in err.message and "did you mean 'pii_columns'" in err.message


def test_misspelled_required_header_reports_both_problems(config_dir: Path) -> None:
    write_csv(config_dir, HEADER.replace("timestamp_column", "timestamp_colum") + ROW + "\n")
    errors = errors_of(config_dir)
    assert [(e.row, e.field) for e in errors] == [(1, "timestamp_colum"), (1, None)]
    assert "did you mean 'timestamp_column'" in errors[0].message and "timestamp_column" in errors[1].message


# --- YAML ---------------------------------------------------------------------------------------------


def test_duplicate_yaml_key_names_the_key_path(config_dir: Path) -> None:
    path = config_dir / "environments.yaml"
    text = path.read_text()
    assert "  env1:\n" in text
    path.write_text(text.replace("  env1:\n", "  env1:\n    lake_root: elsewhere\n", 1))  # set again below
    err = one_error(config_dir)
    assert err.field == "environments.env1.lake_root" and "duplicate key 'lake_root'" in err.message


def test_duplicate_top_level_yaml_key(tmp_path: Path) -> None:
    path = tmp_path / "tenants.yaml"
    path.write_text("tenants:\n  env1: {}\ntenants:\n  env2: {}\n")
    with pytest.raises(ConfigErrors) as info:
        Tenants.load(path)
    (err,) = info.value.errors
    assert err.field == "tenants" and "line 3 (first on line 1)" in err.message


def test_name_inside_an_environment_block(config_dir: Path) -> None:
    path = config_dir / "environments.yaml"
    path.write_text(path.read_text().replace("  env1:\n", "  env1:\n    name: production\n", 1))
    err = one_error(config_dir)
    assert err.field == "environments.env1.name" and "named by its key" in err.message


# --- collection rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["_x", "Bills", "labOrders", "9lives"])
def test_collection_names_the_catalog_or_dagster_would_refuse(config_dir: Path, name: str) -> None:
    write_csv(config_dir, HEADER + ROW.replace("bills", name, 1) + "\n")
    err = one_error(config_dir)
    assert (err.row, err.field) == (2, "collection") and repr(name) in err.message


def test_uppercase_database_is_refused(config_dir: Path) -> None:
    write_csv(config_dir, HEADER + ROW.replace("hims_billing", "HIMS_billing") + "\n")
    err = one_error(config_dir)
    assert (err.row, err.field) == (2, "database")


def test_dotted_timestamp_column(config_dir: Path) -> None:
    write_csv(config_dir, HEADER + ROW.replace("updated_at", "meta.updated_at") + "\n")
    err = one_error(config_dir)
    assert (err.row, err.field) == (2, "timestamp_column") and "dotted path" in err.message


@pytest.mark.parametrize(
    ("partition_columns", "text"),
    [
        ("date", "'date' cannot be a partition column"),
        ("Date", "'Date' cannot be a partition column"),
        ("_id", "'_id' cannot be a partition column"),
        ("updated_at", "timestamp column 'updated_at' cannot also be a partition column"),
        ("facility_id;Facility_ID", "same column twice"),
        ("facility_id;_kx_hidden", "starting with '_'"),
        ("meta.facility", "no dots"),
    ],
)
def test_bad_partition_columns(config_dir: Path, partition_columns: str, text: str) -> None:
    write_csv(config_dir, HEADER + ROW.replace("facility_id", partition_columns) + "\n")
    err = one_error(config_dir)
    assert (err.row, err.field) == (2, "partition_columns") and text in err.message


# --- facility ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fid", ["' F1'", "'F1 '", "\"F1\\t\"", "''"])
def test_padded_or_empty_facility_ids(tmp_path: Path, fid: str) -> None:
    path = tmp_path / "tenants.yaml"
    path.write_text(f"tenants:\n  env1:\n    G1: {{name: One, facility_ids: [F0, {fid}]}}\n")
    with pytest.raises(ConfigErrors) as info:
        Tenants.load(path)
    (err,) = info.value.errors
    assert err.field == "tenants.env1.G1.facility_ids.1" and "facility id" in err.message


def test_numeric_facility_id_is_not_silently_renumbered(tmp_path: Path) -> None:
    path = tmp_path / "tenants.yaml"
    path.write_text("tenants:\n  env1:\n    G1: {name: One, facility_ids: [007]}\n")
    with pytest.raises(ConfigErrors) as info:
        Tenants.load(path)
    assert info.value.errors[0].field == "tenants.env1.G1.facility_ids.0"
