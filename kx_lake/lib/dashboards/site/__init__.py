"""The local dashboard site (Starlette + Jinja2 + bundled Plotly): app.py builds it, data.py reads the
catalog, templates/ and static/ render it. See docs/dashboards.md."""

from kx_lake.lib.dashboards.site.app import Site, build_app, create_site

__all__ = ["Site", "build_app", "create_site"]
