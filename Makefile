# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files so a second `make` skips the install unless pyproject.toml changed.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.core

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@ $(VENV)/.core

# The run, then the same refund.request 1.2.0 -> 2.0.0 change seen by the governance commands.
DESK := --project examples/support-desk/seamline.toml
demo: $(VENV)/.core
	rm -f seamline-demo.db seamline-demo.db-wal seamline-demo.db-shm
	$(BIN)/seamline demo --store seamline-demo.db
	$(BIN)/seamline evals report --store seamline-demo.db
	$(BIN)/seamline contracts check $(DESK)
	$(BIN)/seamline can-i-deploy refunds@3.1.0 $(DESK)
	$(BIN)/seamline audit $(DESK)
	$(BIN)/seamline runbook $(DESK) --output seamline-demo-runbooks

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(VENV)/.test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(VENV)/.bench
	$(BIN)/python bench/handoff_overhead.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/fanout.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
