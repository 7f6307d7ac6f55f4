# The two commands a new user needs: `make demo` (see it work) and `make test` (prove it).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
ENV_FILE := .local/env
# fail with one line, saying what to run, when the set-up is missing
NEED_VENV = @test -x $(PY) || { echo "no .venv here: run 'make install' first (or 'make demo', which installs)" >&2; exit 1; }
NEED_STACK = @test -f $(ENV_FILE) && $(PY) -m local.stack status | grep -q "^s3 .*running" || { echo "the local stack is not running: run 'make local-up' first" >&2; exit 1; }

.PHONY: help install demo test test-fast test-production bench airflow local-up local-down local-status compose-config clean

help:
	@echo "make demo        install if needed, start the local stack, run every pipeline, print a summary"
	@echo "make test        install if needed and run the whole test suite (starts its own local stack)"
	@echo "make test-production   the pipelines on CeleryExecutor with two workers (needs PostgreSQL and Redis)"
	@echo "make bench       run the benchmarks (parse time, stack start-up, ...)"
	@echo "make airflow     the Airflow UI on http://localhost:8080 against the local stack"
	@echo "make local-up / local-down / local-status   the stand-ins for Snowflake, S3 and Bedrock"

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@test -n "$(PYTHON)" || { echo "no python3 found: install Python 3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

demo: install
	$(PY) -m local.demo

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not integration and not production"

# the production-shaped run: CeleryExecutor, two workers, PostgreSQL and Redis on 127.0.0.1 (local/cluster.py)
test-production: install
	$(PY) -m pytest -m production tests/production

bench:
	$(NEED_VENV)
	$(PY) -m bench

local-up:
	$(NEED_VENV)
	$(PY) -m local.stack up

local-down:
	$(NEED_VENV)
	$(PY) -m local.stack down

local-status:
	$(NEED_VENV)
	$(PY) -m local.stack status

airflow:
	$(NEED_VENV)
	$(NEED_STACK)
	source $(ENV_FILE) && $(PY) -m local.airflow_home standalone

# docker-compose.yaml as compose reads it: bare (a clean clone), with .env.example, and with the local-stack env
compose-config:
	@command -v docker-compose >/dev/null || { echo "docker-compose is not installed: run 'sudo apt-get install docker-compose'" >&2; exit 1; }
	docker-compose -f docker-compose.yaml config --quiet
	docker-compose --env-file .env.example -f docker-compose.yaml config --quiet
	docker-compose --env-file docker-compose.local-stack.env -f docker-compose.yaml config --quiet

clean: local-down
	rm -rf .local
