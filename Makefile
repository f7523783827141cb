# atscale-mock: `make run` installs and sends every event to the built-in receiver;
# `make test` installs and runs the tests. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test check bench clean

$(BIN)/atscale-mock: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/atscale-mock

run: install
	$(BIN)/atscale-mock demo

test: install
	$(BIN)/pytest -n auto

check: install
	$(BIN)/ruff format --check atscale_mock tests bench
	$(BIN)/ruff check atscale_mock tests bench
	$(BIN)/mypy

bench: install
	PATH=$(BIN):$$PATH $(BIN)/python bench/cold_start.py
	$(BIN)/python bench/timing_accuracy.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
