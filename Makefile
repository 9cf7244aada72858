# One-command setup: every target creates .venv and installs the project on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench lint lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup  ## seed the embedded demo data and run the whole flow
	$(BIN)/ecm-bot demo

test: setup  ## run the whole test suite (starts a local PostgreSQL for the warehouse tests)
	bash scripts/start-postgres.sh
	$(BIN)/pytest

bench: setup  ## print context, triage, field, start-up, seeding, memory, report, resolve, Slack ack and test-suite figures
	bash scripts/start-postgres.sh
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/triage_scale.py
	$(BIN)/python benchmarks/field_history.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/seeding.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/stores_io.py
	$(BIN)/python benchmarks/llm_cost.py
	$(BIN)/python benchmarks/reports_scale.py
	$(BIN)/python benchmarks/resolve_e2e.py
	$(BIN)/python benchmarks/telemetry_overhead.py
	$(BIN)/python benchmarks/slack_ack.py
	$(BIN)/python benchmarks/suite.py

lint: setup  ## ruff (lint and format) and the type checker (mypy, config in pyproject.toml)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy

lock:  ## re-resolve constraints.txt from pyproject.toml in a throwaway venv
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	.lock-venv/bin/pip install -q --upgrade pip
	.lock-venv/bin/pip install -q -e '.[test]'
	{ echo "# Pinned versions for reproducible installs (make uses: pip install -c constraints.txt)."; \
	  echo "# Minimum versions stay in pyproject.toml. Regenerate: make lock"; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^ecm-bot'; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .ecm .pytest_cache .ruff_cache
