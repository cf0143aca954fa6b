# mynacar: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run token test lint unit service e2e faults bench docs rabbitmq prometheus chromium report-tools contract-tools venv clean chart-test images deploy

run: venv rabbitmq report-tools ## start the whole system locally with Miyakonojo demo data
	$(PY) -m deploy.local.run

ROLE ?= reception
token: venv ## print a development staff token for `make run`: make token ROLE=crew [CREW=crew-1] [LIAISON=id]
	@$(PY) -m deploy.local.devauth token $(ROLE) $(if $(CREW),--crew $(CREW)) $(if $(LIAISON),--liaison $(LIAISON))

test: venv rabbitmq prometheus chromium report-tools contract-tools lint ## the whole suite: unit, service (real AMQP), chart and end-to-end
	$(PY) -m pytest

unit: venv report-tools
	$(PY) -m pytest tests/unit

service: venv rabbitmq
	$(PY) -m pytest tests/service

e2e: venv rabbitmq prometheus chromium report-tools
	$(PY) -m pytest tests/e2e

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

faults: venv rabbitmq ## the fault suite alone (FAULT_N bookings per fault, default 200)
	$(PY) -m pytest tests/faults

bench: venv rabbitmq ## what the safety costs (intake, pipeline, personal data) and how well scheduling plans
	@command -v wrk >/dev/null || { sudo_cmd=""; [ "$$(id -u)" -ne 0 ] && sudo_cmd=sudo; \
	  $$sudo_cmd apt-get update -qq && $$sudo_cmd apt-get install -y -qq wrk; }
	$(PY) -m tests.bench.intake
	$(PY) -m tests.bench.confirms
	$(PY) -m tests.bench.security
	$(PY) -m tests.bench.scheduling
	$(PY) -m tests.bench.portal
	$(PY) -m tests.bench.public_form
	$(PY) -m tests.bench.report

chart-test: venv rabbitmq prometheus ## the chart, image, skaffold and alert checks, and the chart-driven local run
	$(VENV)/bin/hadolint deploy/docker/Dockerfile
	$(PY) -m pytest tests/deploy tests/monitoring tests/e2e/test_chart_run.py

# The one list of services (deploy/services.py).
SERVICES = $(shell $(PY) -m deploy.services)
IMAGE_REGISTRY ?= ghcr.io/mynacar
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: "\(.*\)"/\1/p' charts/mynacar/Chart.yaml)

images: venv ## build one image per service (needs a Docker engine)
	@docker info >/dev/null 2>&1 || { echo "make images needs a running Docker engine (docker info failed)." >&2; exit 1; }
	for service in $(SERVICES); do \
	  docker build -f deploy/docker/Dockerfile --build-arg SERVICE=$$service \
	    --build-arg SYSTEM_PACKAGES="$$($(PY) -m deploy.services packages $$service)" \
	    -t $(IMAGE_REGISTRY)/mynacar-$$service:$(IMAGE_TAG) . || exit 1; \
	done

VALUES ?= deploy/values/production.yaml
NAMESPACE ?= mynacar
RELEASE ?= mynacar

deploy: venv ## helm upgrade --install through Helm's Go SDK: make deploy VALUES=... NAMESPACE=...
	$(PY) -m deploy.chart deploy -f $(VALUES) --namespace $(NAMESPACE) --release $(RELEASE)

docs: venv ## regenerate docs/asyncapi.yaml, docs/openapi/*.yaml, skaffold.yaml and the chart's services.json from the code
	$(PY) -m deploy.tools.apidocs

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@bash deploy/local/ensure-python.sh $(PYTHON) $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

prometheus: ## install Debian's prometheus (promtool and the server) if absent
	@bash deploy/local/ensure-prometheus.sh

CONTRACT_TOOLS := tests/contracts/node_modules/.installed

contract-tools: $(CONTRACT_TOOLS) ## the AsyncAPI CLI, Redocly and Spectral the contracts are linted with (npm ci)

$(CONTRACT_TOOLS): tests/contracts/package-lock.json
	@command -v npm >/dev/null || { sudo_cmd=""; [ "$$(id -u)" -ne 0 ] && sudo_cmd=sudo; \
	  $$sudo_cmd apt-get update -qq && $$sudo_cmd apt-get install -y -qq nodejs npm; }
	npm ci --prefix tests/contracts --no-audit --no-fund --loglevel=error
	@touch $(CONTRACT_TOOLS)

chromium: ## install Debian's chromium and the Noto CJK fonts (the browser tests) if absent
	@bash deploy/local/ensure-chromium.sh

report-tools: ## install Pango, the Noto CJK fonts (the report's PDF) and poppler-utils (reading it in tests) if absent
	@bash deploy/local/ensure-report-tools.sh

rabbitmq: ## install and start a local RabbitMQ (with the management plugin) if none answers
	@bash deploy/local/ensure-rabbitmq.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var
