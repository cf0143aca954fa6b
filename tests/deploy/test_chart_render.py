"""The chart renders for every value set, and every object is valid Kubernetes (or a valid custom
resource), checked offline with Helm's own renderer and the published schemas."""

from __future__ import annotations

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest

from deploy.chart import CHART, render, render_manifests
from deploy.services import SERVICES as SERVICE_SPECS
from tests.deploy.conftest import SERVICES, VALUE_SETS, custom_resource_schema, manifests, of_kind

KUBERNETES_VERSIONS = ("1.29.0", "1.31.0")


def test_helm_lint_is_clean_for_every_value_set():
    for name, values in VALUE_SETS.items():
        report = helm.lint(CHART, values, strict=True)
        assert report["errors"] == [], (name, report)
        assert report["messages"] == [], (name, report["messages"])


@pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)
def test_every_object_is_valid_for_kubernetes(value_set, kubernetes):
    objects = manifests(value_set)
    assert objects
    for obj in objects:
        schema = custom_resource_schema(obj["apiVersion"], obj["kind"])
        if schema is not None:
            continue  # custom resources: see the next test
        try:
            kubernetes_validate.validate(obj, kubernetes, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{value_set}: {obj['kind']}/{obj['metadata']['name']} at {list(error.path)}: {error.message}")


def test_custom_resources_match_their_published_schemas(value_set):
    for obj in manifests(value_set):
        schema = custom_resource_schema(obj["apiVersion"], obj["kind"])
        if schema is None:
            assert "." not in obj["apiVersion"].split("/")[0] or obj["apiVersion"].split("/")[0].endswith("k8s.io"), (
                f"{obj['kind']} ({obj['apiVersion']}) is a custom resource without a saved schema"
            )
            continue
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=str)
        assert not errors, f"{value_set}: {obj['kind']}/{obj['metadata']['name']}: {errors[0].message}"


def test_the_custom_resource_check_would_catch_a_mistake():
    [rule] = of_kind(manifests("monitoring"), "PrometheusRule")
    broken = {**rule, "spec": {"groups": [{"name": "x", "rules": [{"alert": "A", "for": "five minutes"}]}]}}
    schema = custom_resource_schema(rule["apiVersion"], rule["kind"])
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_optional_parts_appear_only_when_asked_for():
    kinds = {name: {o["kind"] for o in manifests(name)} for name in VALUE_SETS}
    for optional in ("ServiceMonitor", "PrometheusRule", "ScaledObject", "TriggerAuthentication", "Ingress"):
        assert optional not in kinds["defaults"]
    assert {"ServiceMonitor", "PrometheusRule"} <= kinds["monitoring"]
    assert {"ScaledObject", "TriggerAuthentication"} <= kinds["keda"] and "HorizontalPodAutoscaler" not in kinds["keda"]
    assert "HorizontalPodAutoscaler" in kinds["cpu-autoscaling"]
    assert "Ingress" in kinds["external-databases"]
    assert "NetworkPolicy" not in kinds["optional-off"]
    deployments = {d["metadata"]["name"] for d in of_kind(manifests("optional-off"), "Deployment")}
    switched_off = set(VALUE_SETS["optional-off"]["services"])
    assert deployments == {f"mynacar-{s}" for s in SERVICES if s not in switched_off}
    assert {"mynacar-booking", "mynacar-scheduling", "mynacar-notification"} <= deployments


def test_one_deployment_service_and_configmap_per_service():
    objects = manifests("defaults")
    for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy"):
        names = sorted(o["metadata"]["name"] for o in of_kind(objects, kind))
        assert names == sorted(f"mynacar-{s}" for s in SERVICES), kind


def test_the_prometheus_rule_carries_the_alert_file_unchanged():
    import yaml

    from deploy.chart import CHART as chart_dir

    [rule] = of_kind(manifests("monitoring"), "PrometheusRule")
    assert rule["spec"] == yaml.safe_load((chart_dir / "files/prometheus/alerts.yaml").read_text())


def test_the_dashboard_is_shipped_for_the_grafana_sidecar():
    import json

    config_maps = of_kind(manifests("monitoring"), "ConfigMap")
    [dashboard] = [c for c in config_maps if c["metadata"]["name"].endswith("-dashboard")]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["mynacar.json"])["uid"] == "mynacar-overview"


def test_a_release_name_changes_every_object_name():
    names = {o["metadata"]["name"] for o in render_manifests({}, release="city-a")}
    assert "city-a-mynacar-booking" in names and not any(n.startswith("mynacar-") for n in names)


def test_notes_tell_how_to_reach_booking():
    notes = next(t for p, t in render({}).items() if p.endswith("NOTES.txt"))
    assert "port-forward svc/mynacar-booking" in notes and "mynacar-rabbitmq" in notes


def test_each_service_runs_on_the_defaults_under_its_own_block():
    objects = render_manifests({"serviceDefaults": {"replicas": 3}, "services": {"scheduling": {"replicas": 4}}})
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in of_kind(objects, "Deployment")}
    assert replicas["mynacar-liaison"] == 3  # no replicas of its own: the default
    assert replicas["mynacar-outreach"] == 3
    assert replicas["mynacar-scheduling"] == 4  # its block wins
    assert replicas["mynacar-booking"] == 2  # values.yaml's own block for booking


def test_a_block_for_a_service_the_list_does_not_know_is_refused():
    with pytest.raises(helm.HelmError, match=r"services\.bookng: no such service"):
        render({"services": {"bookng": {"replicas": 2}}})


def test_keda_watches_every_queue_the_service_consumes():
    from deploy.tools.deployfiles import consumed_queues

    scaled = {o["metadata"]["name"]: o for o in of_kind(manifests("keda"), "ScaledObject")}
    for spec in SERVICE_SPECS:
        queues = consumed_queues(spec)
        if not queues:
            assert f"mynacar-{spec.name}" not in scaled  # the portal consumes none
            continue
        triggers = scaled[f"mynacar-{spec.name}"]["spec"]["triggers"]
        assert sorted(t["metadata"]["queueName"] for t in triggers) == queues
    assert "booking.referrals" in consumed_queues(next(s for s in SERVICE_SPECS if s.name == "booking"))
