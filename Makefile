# LendDesk — two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
BORROWERS ?= 5000

.PHONY: demo test lint models system-packages bench-packages serve clean guard-model assistant-data assistant-model

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## The assistant's models, trained once from the data in the repo (var/assistant; skipped while current).
models: $(STAMP)
	$(BIN)/lenddesk assistant train --if-missing

demo: $(STAMP) models
	$(BIN)/lenddesk demo --borrowers $(BORROWERS) --host $(HOST) --port $(PORT)

## Debian packages the tests need: PostgreSQL server, Redis server, Chromium, CJK fonts.
system-packages:
	@bash scripts/system-packages.sh

## What the benchmarks need besides (wrk); bench/httpload.py runs it when wrk is missing.
bench-packages:
	@bash scripts/system-packages.sh --bench

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

test: system-packages $(STAMP) lint models
	$(BIN)/pytest -n 2 --dist loadgroup -q --durations=25

## The compliance guard's model: regenerate its training data and retrain (writes the shipped weights).
guard-model: $(STAMP)
	$(BIN)/python scripts/guard_training_data.py
	$(BIN)/lenddesk collections train

## The assistant's corpus (scripts/assistant_data.py) and its intent, emotion and scam models.
assistant-data: $(STAMP)
	PYTHONPATH=src $(BIN)/python scripts/assistant_data.py

assistant-model: $(STAMP)
	$(BIN)/lenddesk assistant train

clean:
	rm -rf $(VENV) .pytest_cache lenddesk.db*
