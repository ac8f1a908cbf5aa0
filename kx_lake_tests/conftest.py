"""Test wiring: each real local service has its own fixture module under fixtures/."""

pytest_plugins = [
    "kx_lake_tests.fixtures.ferretdb",
    "kx_lake_tests.fixtures.seaweedfs",
    "kx_lake_tests.fixtures.moto_server",
    "kx_lake_tests.fixtures.trino_server",
]
