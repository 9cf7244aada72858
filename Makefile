# One-command setup: every target creates .venv and installs the project on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup  ## seed the embedded demo data and run the whole flow
	$(BIN)/ecm-bot demo

test: setup  ## run the whole test suite (starts a local PostgreSQL for the warehouse tests)
	bash scripts/start-postgres.sh
	$(BIN)/pytest

bench: setup  ## print context, triage, field, report, resolve and Slack ack figures (both engines)
	bash scripts/start-postgres.sh
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/stores_io.py
	$(BIN)/python benchmarks/llm_cost.py
	$(BIN)/python benchmarks/reports_scale.py
	$(BIN)/python benchmarks/resolve_e2e.py
	$(BIN)/python benchmarks/slack_ack.py

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .ecm .pytest_cache .ruff_cache
