# The two commands of the README: `make run` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-quick clean system-packages

run: $(VENV)/.installed-run
	$(BIN)/lambert

test: $(VENV)/.installed-dev system-packages
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
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,meaning]'
	touch $@ $(VENV)/.installed-run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Debian packages the suite drives for real: Chromium (the web pages, through Playwright),
# zsh and fish (the completion scripts) and PgBouncer (PostgreSQL behind it). Installed when
# missing and this runs as root (CI); elsewhere their tests skip with one line naming the
# package, and fail under CI=true.
SYSTEM_PACKAGES := chromium zsh fish pgbouncer

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		command -v $$p >/dev/null || [ -x /usr/sbin/$$p ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -q && apt-get install -y -q $$missing; \
		else \
			echo "note: missing$$missing (apt-get install$$missing): their tests will skip"; \
		fi; \
	fi
