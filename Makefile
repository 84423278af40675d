# The two commands: `make run` and `make test`. Both set up .venv on first use and are safe to repeat.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv migrate demo static lint check-migrations e2e-browser clean-var bench

venv: $(STAMP)

# Reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): install Python 3.11 with venv (Debian: apt-get install python3.11-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

var:
	@mkdir -p var/broker/queue var/broker/processed

migrate: venv var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# Static files for whitenoise: with DEBUG=0 it serves only what was collected (hashed names, compressed).
static: venv var
	$(PY) manage.py collectstatic --noinput -v0

# Web on http://127.0.0.1:8000, a Celery worker and Celery beat, under one supervisor: one Ctrl-C stops all.
run: demo static
	@echo
	@echo "  Panel:   http://127.0.0.1:8000/   (Ctrl-C stops web, worker and beat)"
	@echo
	$(VENV)/bin/honcho --procfile Procfile.dev start

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

check-migrations: venv var
	$(PY) manage.py makemigrations --check --dry-run

# Browser tests drive Debian's Chromium; install it when missing and we may (root), else they skip.
e2e-browser:
	@if ! test -x /usr/bin/chromium && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		(apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) || echo "chromium could not be installed: browser tests will skip"; \
	fi

# pytest exits 5 when it collects no test; make treats that as a failure, as CI must.
test: venv var lint check-migrations e2e-browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv var
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean-var:
	rm -rf var/
