"""kx-lake: MongoDB (HIMS) collections to a partitioned Parquet lake, catalog and dashboards."""

__version__ = "0.1.0"
