# One command surface. The first target that needs it bootstraps .venv from uv.lock.
.DEFAULT_GOAL := help
SHELL := /bin/bash

UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
VENV_STAMP := .venv/.synced
RUN_STAMP := .venv/.synced-run

.PHONY: help run test lint fmt bench clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV_STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

# Runtime dependencies only; --inexact keeps the dev tools if `make test` installed them.
$(RUN_STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --inexact
	@touch $@

run: $(RUN_STAMP) ## Serve on http://127.0.0.1:8000 (docs at /docs)
	$(PY) -m app

test: $(VENV_STAMP) ## Run the whole test suite against real PostgreSQL and Redis
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV_STAMP) ## ruff check, ruff format --check, mypy --strict on app/
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

fmt: $(VENV_STAMP) ## Format and autofix
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: $(VENV_STAMP) ## Our endpoints against plain FastAPI equivalents (POSTGRES_DB names its database)
	$(PY) -m bench $(ENDPOINTS)

clean: ## Remove the virtualenv, caches and logs
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache logs
