"""Value sets the chart is rendered with, and the saved schemas of custom resources."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from deploy.chart import ROOT, VALUES_DIR, load_values, render_manifests
from deploy.services import SERVICES as SERVICE_SPECS

# Published schemas of formats no tool here validates by itself, vendored (schemas/README.md).
SCHEMAS = Path(__file__).resolve().parent / "schemas"

SERVICES = tuple(spec.name for spec in SERVICE_SPECS)


def _every_service(block: dict) -> dict:
    """The block as every service's default (KEDA leaves out those with no queue, the portal)."""
    return {"serviceDefaults": block}


# Another town's municipality file, given to the chart instead of the image's (config.municipalityFile).
OTHER_TOWN = (
    (ROOT / "shared" / "municipalities" / "miyakonojo.yaml")
    .read_text(encoding="utf-8")
    .replace("name: 都城市", "name: 山あい町")
)

VALUE_SETS: dict[str, dict] = {
    "defaults": {},
    "external-databases": load_values(VALUES_DIR / "production.yaml"),
    "dev-instances": load_values(VALUES_DIR / "dev.yaml"),
    "keda": _every_service({"keda": {"enabled": True}}),
    "cpu-autoscaling": _every_service({"autoscaling": {"enabled": True}}),
    "broker-tls": {
        "rabbitmq": {"port": 5671, "tls": {"caSecret": "mynacar-rabbitmq-tls", "clientSecret": "mynacar-amqp-client"}},
        **_every_service({"keda": {"enabled": True}}),
    },
    "own-municipality-file": {"config": {"municipalityFile": OTHER_TOWN}},
    "monitoring": {
        "monitoring": {
            "serviceMonitor": {"enabled": True},
            "prometheusRule": {"enabled": True},
            "grafanaDashboard": {"enabled": True},
        }
    },
    "optional-off": {
        "networkPolicy": {"enabled": False},
        "ingress": {"enabled": False},
        "devInstances": {"enabled": False},
        "monitoring": {
            "serviceMonitor": {"enabled": False},
            "prometheusRule": {"enabled": False},
            "grafanaDashboard": {"enabled": False},
        },
        "services": {"outreach": {"enabled": False}, "liaison": {"enabled": False}, "portal": {"enabled": False}},
    },
}


@cache
def manifests(value_set: str) -> tuple[dict, ...]:
    return tuple(render_manifests(VALUE_SETS[value_set]))


@pytest.fixture(params=sorted(VALUE_SETS))
def value_set(request) -> str:
    return request.param


CUSTOM_RESOURCE_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication-keda-v1alpha1.json",
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmqcluster-rabbitmq-v1beta1.json",
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): "mongodbcommunity-mongodbcommunity-v1.json",
}


@cache
def custom_resource_schema(api_version: str, kind: str) -> dict | None:
    name = CUSTOM_RESOURCE_SCHEMAS.get((api_version, kind))
    return json.loads((SCHEMAS / name).read_text()) if name else None


def saved_schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def of_kind(objects: tuple[dict, ...], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def path_of(*parts: str) -> Path:
    return ROOT.joinpath(*parts)
