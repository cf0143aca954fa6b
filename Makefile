# mynacar: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint unit service e2e faults bench docs rabbitmq venv clean

run: venv rabbitmq ## start the whole system locally with Miyakonojo demo data
	$(PY) -m deploy.local.run

test: venv rabbitmq lint ## the whole suite: unit, service (real AMQP) and end-to-end
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest tests/unit

service: venv rabbitmq
	$(PY) -m pytest tests/service

e2e: venv rabbitmq
	$(PY) -m pytest tests/e2e

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

faults: venv rabbitmq ## the fault suite alone (FAULT_N bookings per fault, default 200)
	$(PY) -m pytest tests/faults

bench: venv rabbitmq ## what the safety costs: intake and pipeline against a bare nameko baseline
	@command -v wrk >/dev/null || { sudo_cmd=""; [ "$$(id -u)" -ne 0 ] && sudo_cmd=sudo; \
	  $$sudo_cmd apt-get update -qq && $$sudo_cmd apt-get install -y -qq wrk; }
	$(PY) -m tests.bench.intake

docs: venv ## regenerate docs/asyncapi.yaml and docs/openapi/*.yaml from the schemas
	$(PY) -m shared.apidocs

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@bash deploy/local/ensure-python.sh $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

rabbitmq: ## install and start a local RabbitMQ (with the management plugin) if none answers
	@bash deploy/local/ensure-rabbitmq.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var
