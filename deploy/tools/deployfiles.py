"""The deploy files that list services, generated from deploy/services.py and the services' own code,
so that a new service or outreach channel is one folder and one entry there (ADR 1):

- `charts/mynacar/files/services.json`: per service, what the chart must know and the code already
  says: the API path prefixes the ingress routes (staff and public, from the API document), the
  queues it consumes (for KEDA), and the secrets it needs (from its ServiceSpec). The chart merges
  it under `serviceDefaults` and the operator's `services.<name>` block.
- `skaffold.yaml`: one image per service, each handed to the chart.

Written by `make docs` with the contract documents; a test fails when they are stale."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from nameko.events import EventHandler
from nameko.messaging import Consumer

from deploy.services import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
SERVICES_JSON = ROOT / "charts" / "mynacar" / "files" / "services.json"
SKAFFOLD = ROOT / "skaffold.yaml"


def service_class(spec: ServiceSpec) -> type:
    module, name = spec.target.split(":")
    return getattr(importlib.import_module(module), name)


def consumed(spec: ServiceSpec) -> list[tuple[str, str, str]]:
    """(queue, exchange, binding key) for each of the service's event handlers and consumers, the
    queue named as nameko names it. KEDA's queues and the broker permissions both come from here."""
    cls = service_class(spec)
    found = set()
    for attribute in dir(cls):
        for entrypoint in getattr(getattr(cls, attribute), "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventHandler):
                source, event = entrypoint.source_service, entrypoint.event_type
                found.add((f"evt-{source}-{event}--{spec.name}.{attribute}", f"{source}.events", event))
            elif isinstance(entrypoint, Consumer):
                queue = entrypoint.queue
                found.add((queue.name, queue.exchange.name, queue.routing_key))
    return sorted(found)


def consumed_queues(spec: ServiceSpec) -> list[str]:
    """The queues the service's event handlers and consumers read."""
    return [queue for queue, _, _ in consumed(spec)]


def api_paths(spec: ServiceSpec) -> dict[str, list[str]]:
    """The ingress's path prefixes from the service's API document: /api/v1/<resource>. Staff paths
    are those with an operation that needs a role; public ones have an operation for anyone. A
    public prefix is routed exactly when staff operations sit below it (POST /api/v1/bookings is
    the public form, GET /api/v1/bookings/{id} is reception's)."""
    document = service_class(spec).openapi
    staff: set[str] = set()
    public: set[str] = set()
    staff_below: set[str] = set()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        prefix = "/".join(path.split("/")[:4])
        roles = [bool(op.get("x-roles")) for op in operations.values()]
        if any(roles):
            staff.add(prefix)
            if path != prefix:
                staff_below.add(prefix)
        if not all(roles):
            public.add(prefix)
    return {
        "ingressPaths": sorted(staff),
        "publicPaths": sorted(public),
        "publicExactPaths": sorted(public & staff_below),
    }


def facts(spec: ServiceSpec) -> dict:
    return {
        **api_paths(spec),
        "keda": {"queues": consumed_queues(spec)},
        "dataKeys": "data_keys" in spec.needs,
        "smtp": "smtp" in spec.needs,
        "serviceKey": "service_key" in spec.needs,
        "serviceTrust": "service_trust" in spec.needs,
        "channel": spec.channel,
    }


def services_json() -> str:
    return json.dumps({spec.name: facts(spec) for spec in SERVICES}, indent=2, ensure_ascii=False) + "\n"


SKAFFOLD_HEAD = """\
# Generated from deploy/services.py by `make docs` (deploy/tools/deployfiles.py): do not edit.
# skaffold: `skaffold dev` builds one image per service, deploys the chart with deploy/values/dev.yaml
# (in-cluster RabbitMQ and MongoDB) and forwards the booking API to localhost:8001.
# `skaffold run -p production --default-repo=<registry>` deploys with deploy/values/production.yaml.
# Checked offline against the Skaffold schema by tests/deploy/test_images_and_skaffold.py.
apiVersion: skaffold/v4beta14
kind: Config
metadata:
  name: mynacar
build:
  tagPolicy:
    gitCommit: {}
  local:
    useBuildkit: true
    push: false
  artifacts:
"""

SKAFFOLD_TAIL = """\
portForward:
  - resourceType: service
    resourceName: mynacar-booking
    namespace: mynacar
    port: 80
    localPort: 8001
profiles:
  - name: dev  # on for `skaffold dev`; also what the base config deploys
    activation:
      - command: dev
    patches:
      - op: replace
        path: /deploy/helm/releases/0/valuesFiles
        value: [deploy/values/dev.yaml]
  - name: production
    patches:
      - op: replace
        path: /build/local/push
        value: true
      - op: replace
        path: /deploy/helm/releases/0/valuesFiles
        value: [deploy/values/production.yaml]
      - op: remove
        path: /portForward
"""


def skaffold_yaml() -> str:
    artifacts = []
    values = []
    for spec in SERVICES:
        artifact = (
            f"    - image: mynacar-{spec.name}\n"
            "      context: .\n"
            "      docker:\n"
            "        dockerfile: deploy/docker/Dockerfile\n"
            "        buildArgs:\n"
            f"          SERVICE: {spec.name}\n"
        )
        if spec.system_packages:
            artifact += f"          SYSTEM_PACKAGES: {' '.join(spec.system_packages)}\n"
        artifacts.append(artifact)
        image = spec.name.replace("-", "_")
        values.append(
            f'          services.{spec.name}.image.repository: "{{{{.IMAGE_REPO_mynacar_{image}}}}}"\n'
            f'          services.{spec.name}.image.tag: "{{{{.IMAGE_TAG_mynacar_{image}}}}}"\n'
        )
    deploy = (
        "deploy:\n"
        "  helm:\n"
        "    releases:\n"
        "      - name: mynacar\n"
        "        chartPath: charts/mynacar\n"
        "        namespace: mynacar\n"
        "        createNamespace: true\n"
        "        wait: true\n"
        "        valuesFiles: [deploy/values/dev.yaml]\n"
        "        setValueTemplates:\n"
    )
    return SKAFFOLD_HEAD + "".join(artifacts) + deploy + "".join(values) + SKAFFOLD_TAIL


def rendered() -> dict[Path, str]:
    return {SERVICES_JSON: services_json(), SKAFFOLD: skaffold_yaml()}
