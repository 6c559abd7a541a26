# The two commands of the README: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-quick clean pgbouncer

run: $(VENV)/.installed-run
	$(BIN)/lambert

test: $(VENV)/.installed-dev pgbouncer
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

bench-quick: $(VENV)/.installed-dev
	$(BIN)/python -m bench --quick

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "lambert needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package (and its dependencies) to the versions CI tests.
$(VENV)/.installed-run: $(VENV)/bin/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# The PgBouncer tests (tests/test_pgbouncer.py) need Debian's pgbouncer: installed here when
# missing and this runs as root (CI); elsewhere they skip with one line (and fail under CI=true).
pgbouncer:
	@if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -q && apt-get install -y -q pgbouncer; \
		else \
			echo "note: no pgbouncer (apt-get install pgbouncer); its tests will skip"; \
		fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
