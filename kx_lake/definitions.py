"""The code location: everything under kx_lake/defs, loaded on demand (nothing runs at import)."""

from pathlib import Path

import dagster as dg


def build_definitions(config_dir: str | None = None) -> dg.Definitions:
    """The definitions for `config_dir` (the CLI's --config-dir), passed down explicitly rather than
    through os.environ; None: KX_LAKE_CONFIG_DIR, else ./assets_config, as `dg dev` loads them."""
    from kx_lake.builders.resources import definitions_for

    with definitions_for(config_dir):
        return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
