# The two front-door commands (see README): `make demo` and `make test`.
SHELL := /bin/bash
KX := .venv/bin/kx-lake
SCALE ?= 0.01

.PHONY: setup demo test test-fast dev check-defs clean-state bench bench-quick

setup:
	bash scripts/setup.sh

## Set up, start the embedded source, seed env1 and env2, and sync both into the local lake.
demo: setup
	$(KX) source up
	$(KX) seed --env env1 --scale $(SCALE)
	$(KX) seed --env env2 --scale $(SCALE)
	$(KX) sync --env env1
	$(KX) sync --env env2
	$(KX) catalog refresh --env env1
	$(KX) catalog refresh --env env2
	$(KX) source status
	$(KX) dashboards serve --env env1 --port 8050 --background
	$(KX) dashboards serve --env env2 --port 8051 --background
	@echo "Lake: .kx-lake/lake   UI: make dev   Inspect: $(KX) lake ls --env env1"
	@echo "Query: $(KX) query --env env1 \"select count(*) from bills_latest\""
	@echo "On Trino (Athena's engine): $(KX) trino up && $(KX) catalog refresh --env env1 --engine trino && $(KX) query --env env1 --engine trino \"select count(*) from bills_latest\""
	@echo "Dashboards: http://127.0.0.1:8050/ (env1), http://127.0.0.1:8051/ (env2); sign-in links: $(KX) dashboards links --env env1 [--port 8051 --env env2]"

## The whole suite, integration tests included (they start their own services).
test: setup
	.venv/bin/pytest

## Unit tests only.
test-fast: setup
	.venv/bin/pytest -m "not integration and not slow"

## Throughput vs the read ceiling, dlt and the Spark engine (docs/benchmarks.md), scale 1 by default (BENCH_SCALE=0.1,0.3 for a curve).
BENCH_SCALE ?= 1
bench: setup
	.venv/bin/python -m benchmarks.run --scale $(BENCH_SCALE)

## A quick check (~2 min): all five contenders on two collections at scale 0.005.
bench-quick: setup
	.venv/bin/python -m benchmarks.run --scale 0.005 --collections bills,vitals --output benchmarks/data/results/quick.json

## The Dagster UI and daemon on the project's definitions (`dg dev`; [tool.dg] in pyproject.toml).
dev: setup
	$(KX) source up
	DAGSTER_HOME=$$($(KX) dagster-home) DAGSTER_EVENT_BATCH_SIZE=1000 DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true \
		VIRTUAL_ENV=$(CURDIR)/.venv PATH=$(CURDIR)/.venv/bin:$$PATH .venv/bin/dg dev $(DEV_ARGS)

## `dg check defs` and `dg list defs`: the definitions load cleanly (no services needed).
check-defs: setup
	VIRTUAL_ENV=$(CURDIR)/.venv PATH=$(CURDIR)/.venv/bin:$$PATH .venv/bin/dg check defs
	VIRTUAL_ENV=$(CURDIR)/.venv PATH=$(CURDIR)/.venv/bin:$$PATH .venv/bin/dg list defs --json > /dev/null

clean-state:
	-$(KX) dashboards stop --env env1
	-$(KX) dashboards stop --env env2
	-$(KX) source down
	rm -rf .kx-lake
