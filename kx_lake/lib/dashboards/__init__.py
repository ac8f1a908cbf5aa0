"""Dashboards as code: the spec model and loader (spec.py), the dataset column contract (datasets.py),
tenant isolation (tenants.py) and the local dashboard site (site/). No Dagster imports here."""
