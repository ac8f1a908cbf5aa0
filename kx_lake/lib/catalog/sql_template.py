"""`{{ <database> }}` placeholders in the SQL files, rendered by jinja2 with StrictUndefined.

A file names databases by their MongoDB database (`{{ hims_masters }}`) or `{{ analytics }}`; the
caller maps each to what it needs: the environment's catalog database (views.render_template), or
the placeholder's own name to read lineage without an environment (catalog_assets). Only the given
names exist: any other variable is an error naming the file and line, found in the template's
syntax tree before rendering so every unknown name is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping

import jinja2
from jinja2 import nodes

_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


class SqlTemplateError(ValueError):
    """A SQL file whose placeholders cannot be rendered; the message names the file and line."""


def render_sql(text: str, databases: Mapping[str, str], source: str = "<sql>") -> str:
    """`text` with each `{{ name }}` replaced by `databases[name]`."""
    try:
        tree = _JINJA.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise SqlTemplateError(f"{source}:{exc.lineno}: {exc.message}") from None
    problems = [f"{source}:{n.lineno}: unknown placeholder '{{{{ {n.name} }}}}'"
                for n in tree.find_all(nodes.Name) if n.name not in databases]
    if problems:
        raise SqlTemplateError(
            "; ".join(problems) + f" (placeholders name a MongoDB database: {', '.join(sorted(databases))})")
    try:
        return _JINJA.from_string(text).render(databases)
    except jinja2.TemplateError as exc:  # e.g. `{{ hims_masters.x }}`: only bare names are placeholders
        raise SqlTemplateError(f"{source}: {exc}") from None
