# creditgate: `make` lists the targets.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
RUN := $(UV) run --frozen

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-8s %s\n", $$1, $$2}'

setup: ## Create .venv from nothing: uv, then the locked dependencies
	@command -v uv >/dev/null 2>&1 || test -x "$(HOME)/.local/bin/uv" || python3 -m pip install --quiet --user uv
	$(UV) sync --frozen

serve: setup ## Run the service on the SQLite file creditgate.db with demo data and a demo key
	$(RUN) creditgate serve --demo

demo: setup ## Walk through a small AI app's credits on creditgate.db, in the terminal
	$(RUN) creditgate demo

openapi: setup ## Write the service's OpenAPI document to docs/openapi.json
	$(RUN) creditgate openapi docs/openapi.json

fmt: setup ## Format and autofix
	$(RUN) ruff format src tests bench examples
	$(RUN) ruff check --fix src tests bench examples

check: setup ## Lint, type-check and check import layers
	$(RUN) ruff format --check src tests bench examples
	$(RUN) ruff check src tests bench examples
	$(RUN) mypy
	$(RUN) lint-imports

test: setup ## Run every test on SQLite and PostgreSQL (PostgreSQL tests skip locally without a server)
	$(RUN) pytest -m "not soak"

soak: setup ## Long stress runs
	$(RUN) pytest -m soak

bench: setup ## Run the benchmarks (minutes): figures against the hand-written floor
	$(RUN) python bench/charge.py
	$(RUN) python bench/hold_settle.py
	$(RUN) python bench/ledger_floor.py
	$(RUN) python bench/growth.py
	$(RUN) python bench/pricing.py
	$(RUN) python bench/http.py
	$(RUN) python bench/webhooks.py
	$(RUN) python bench/scheduler.py
	$(RUN) python bench/guests.py
	$(RUN) python bench/alerts.py
	$(RUN) python bench/analytics.py

ci: check test ## What CI runs

.PHONY: help setup serve demo openapi fmt check test soak bench ci
