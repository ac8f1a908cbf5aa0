"""Reading configuration files so that a malformed file is refused with its location, never half-read.

Two things the standard readers accept silently and an operator never means: bytes that are not
UTF-8 (a spreadsheet saved as Latin-1 or UTF-16; Python's locale default may even decode them into
wrong text), and a YAML mapping with the same key twice (PyYAML keeps the last, so an edit further
down silently wins over the one the operator is looking at). Both are ConfigErrors naming the file,
the line and, for YAML, the dotted key.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kx_lake.lib.config.errors import ConfigError, ConfigErrors


def read_config_text(path: Path) -> str:
    """The file's text, which must be UTF-8 (a leading BOM is dropped); FileNotFoundError passes through."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            path,
            f"not UTF-8: byte 0x{data[exc.start]:02x} at line {line}, column {column}; save the file as UTF-8",
            row=line if path.suffix == ".csv" else None,
        ) from None


def load_yaml(path: Path) -> object:
    """Parse a UTF-8 YAML file, refusing duplicate keys in any mapping (all of them, at once)."""
    text = read_config_text(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"not valid YAML: {exc}") from None
    errors: list[ConfigError] = []
    if node is not None:
        _check_duplicates(path, node, [], errors)
    if errors:
        raise ConfigErrors(errors)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(path, f"not valid YAML: {exc}") from None


def _check_duplicates(path: Path, node: yaml.Node, where: list[str], errors: list[ConfigError]) -> None:
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else repr(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first:
                errors.append(ConfigError(
                    path, f"duplicate key {key!r} on line {line} (first on line {first[key]}); "
                          "YAML would silently keep only the last one", field=".".join([*where, key]),
                ))
            else:
                first[key] = line
            _check_duplicates(path, value_node, [*where, key], errors)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicates(path, item, [*where, str(i)], errors)
