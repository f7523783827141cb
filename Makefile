# atscale-mock: `make run` installs the core and sends every event to the built-in
# receiver; `make test` installs the dev extras too and runs the tests. Both create
# .venv on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEV := $(VENV)/.dev-installed

.PHONY: install run test check docs screenshots dist bench clean

# the core alone (typer, httpx, faker, rich, ...): what `make run` needs, in seconds
$(BIN)/atscale-mock: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "atscale-mock needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; \
	  echo "Try: make $(MAKECMDGOALS) PYTHON=python3.11"; exit 2; }
	$(PYTHON) -m venv --clear $(VENV)  # --clear: a venv of another Python is not reused
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

# the dev extras (test tools, the receivers the tests drive, serve, check, Locust)
$(DEV): $(BIN)/atscale-mock
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(DEV)

run: $(BIN)/atscale-mock
	$(BIN)/atscale-mock demo

test: $(DEV)
	$(BIN)/pytest -n auto

check: $(DEV)
	$(BIN)/ruff format --check atscale_mock tests bench
	$(BIN)/ruff check atscale_mock tests bench
	$(BIN)/mypy

# the documentation site, built as CI builds it (a warning is an error); `mkdocs serve`
# for a live preview
docs: $(DEV)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# the screenshots in docs/img, taken by the browser tests once they pass
screenshots: $(DEV)
	ATSCALE_MOCK_SCREENSHOTS=docs/img $(BIN)/pytest -n 2 \
	  tests/test_reports_browser.py::test_load_report_draws_every_chart \
	  tests/test_reports_browser.py::test_run_report_shows_a_timeline_per_step \
	  tests/test_reports_browser.py::test_serve_journal_report_in_the_browser \
	  tests/test_serve_console.py::test_console_triggers_an_event_and_lists_the_delivery

# the sdist and the wheel, checked as an index would check them
dist: $(DEV)
	rm -rf dist && $(BIN)/python -m build --no-isolation --outdir dist . && $(BIN)/twine check --strict dist/*

bench: $(DEV)
	PATH=$(BIN):$$PATH $(BIN)/python bench/cold_start.py
	$(BIN)/python bench/timing_accuracy.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site dist
