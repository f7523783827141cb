# atscale-mock: `make run` installs and sends every event to the built-in receiver;
# `make test` installs and runs the tests. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test check bench clean

$(BIN)/atscale-mock: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "atscale-mock needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; \
	  echo "Try: make $(MAKECMDGOALS) PYTHON=python3.11"; exit 2; }
	$(PYTHON) -m venv --clear $(VENV)  # --clear: a venv of another Python is not reused
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
