# The two front-door commands (see README): `make demo` and `make test`.
SHELL := /bin/bash
KX := .venv/bin/kx-lake
SCALE ?= 0.01

.PHONY: setup demo test test-fast dev clean-state

setup:
	bash scripts/setup.sh

## Set up, start the embedded source, seed env1 and env2 (and, as the lake lands, sync them).
demo: setup
	$(KX) source up
	$(KX) seed --env env1 --scale $(SCALE)
	$(KX) seed --env env2 --scale $(SCALE)
	$(KX) source status

## The whole suite, integration tests included (they start their own services).
test: setup
	.venv/bin/pytest

## Unit tests only.
test-fast: setup
	.venv/bin/pytest -m "not integration and not slow"

dev: setup
	$(KX) source up
	.venv/bin/dagster dev -w workspace.yaml

clean-state:
	-$(KX) source down
	rm -rf .kx-lake
