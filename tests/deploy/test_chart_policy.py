"""Policies every rendered manifest must keep, whatever the values: probes, resources, a locked-down
security context and pinned images on every container; every Deployment covered by a
PodDisruptionBudget and a NetworkPolicy; no secrets in the chart's values."""

from __future__ import annotations

import re
from importlib import import_module

import helm_python as helm
import pytest
import yaml

from deploy.chart import CHART, notes, render, render_manifests
from deploy.services import SERVICES as SERVICE_SPECS
from tests.deploy.conftest import manifests, of_kind

PINNED_IMAGE = re.compile(r"^[^:@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]*)(@sha256:[a-f0-9]{64})?$")


def pod_specs(value_set: str):
    for deployment in of_kind(manifests(value_set), "Deployment"):
        yield deployment, deployment["spec"]["template"]["spec"]


def containers(value_set: str):
    for deployment, pod in pod_specs(value_set):
        for container in pod["containers"] + pod.get("initContainers", []):
            yield deployment["metadata"]["name"], pod, container


def test_every_container_has_probes_resources_and_a_pinned_image(value_set):
    for name, _, container in containers(value_set):
        assert container.get("livenessProbe") and container.get("readinessProbe"), name
        resources = container.get("resources", {})
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), name
        assert {"cpu", "memory"} <= set(resources.get("limits", {})), name
        image = container["image"]
        assert PINNED_IMAGE.match(image) and not image.endswith(":latest"), f"{name}: {image}"


def test_every_container_runs_locked_down(value_set):
    for name, pod, container in containers(value_set):
        context = container.get("securityContext", {})
        assert context.get("allowPrivilegeEscalation") is False, name
        assert context.get("readOnlyRootFilesystem") is True, name
        assert context.get("capabilities", {}).get("drop") == ["ALL"], name
        assert not context.get("privileged"), name
        non_root = context.get("runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot"))
        assert non_root is True, name
        assert pod.get("automountServiceAccountToken") is False, name


def test_our_services_probe_the_health_routes_on_their_declared_port(value_set):
    for name, _, container in containers(value_set):
        if "-dev-" in name:
            continue
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}, name
        assert "http" in ports


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_every_deployment_is_covered_by_a_disruption_budget_and_a_network_policy(value_set):
    objects = manifests(value_set)
    budgets = of_kind(objects, "PodDisruptionBudget")
    policies = of_kind(objects, "NetworkPolicy")
    for deployment, _ in pod_specs(value_set):
        name = deployment["metadata"]["name"]
        if "-dev-" in name:
            continue  # single throwaway pods of the dev profile
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(selects(b["spec"]["selector"], labels) for b in budgets), name
        if value_set in ("optional-off", "dev-instances"):
            assert not policies  # turned off on purpose in these value sets
        else:
            assert any(selects(p["spec"]["podSelector"], labels) for p in policies), name


def test_network_policies_let_in_only_the_ingress_controller_prometheus_and_the_portal():
    portal_pods = {"app.kubernetes.io/name": "mynacar", "app.kubernetes.io/instance": "mynacar"}
    for policy in of_kind(manifests("defaults"), "NetworkPolicy"):
        name = policy["metadata"]["name"]
        [rule] = policy["spec"]["ingress"]
        namespaces = [peer["namespaceSelector"]["matchLabels"] for peer in rule["from"] if "namespaceSelector" in peer]
        assert namespaces == [
            {"kubernetes.io/metadata.name": "ingress-nginx"},
            {"kubernetes.io/metadata.name": "monitoring"},
        ]
        pods = [peer["podSelector"]["matchLabels"] for peer in rule["from"] if "podSelector" in peer]
        # The portal calls the others' HTTP APIs; nothing else inside the cluster may.
        if name == "mynacar-portal":
            assert pods == []
        else:
            assert pods == [{**portal_pods, "app.kubernetes.io/component": "portal"}], name
        assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
        egress_ports = [p["port"] for r in policy["spec"]["egress"] for p in r["ports"]]
        # DNS, the broker, the database, the identity provider (HTTPS), SMTP for notification, and
        # the other services' HTTP port for the portal.
        sends_mail = name.endswith(("notification", "liaison"))  # residents' messages; chairs' sign-in links
        expected = [53, 53, 443, 5672, 27017] + ([587] if sends_mail else [])
        expected += ["http"] if name.endswith("portal") else []
        assert sorted(map(str, egress_ports)) == sorted(map(str, expected)), name


def test_no_pod_may_reach_the_whole_internet(value_set):
    for policy in of_kind(manifests(value_set), "NetworkPolicy"):
        for rule in policy["spec"]["egress"]:
            for peer in rule["to"]:
                cidr = peer.get("ipBlock", {}).get("cidr")
                assert cidr is None or not cidr.endswith("/0"), (policy["metadata"]["name"], cidr)


def test_the_services_verify_staff_tokens_with_the_providers_keys_or_a_secret():
    configs = {c["metadata"]["name"]: c["data"] for c in of_kind(manifests("defaults"), "ConfigMap")}
    for name, data in configs.items():
        if "MYNACAR_SERVICE" in data:
            assert data["AUTH_JWKS_URL"].startswith("https://"), name
            assert data["AUTH_ISSUER"] and data["AUTH_AUDIENCE"] == "mynacar"
            assert data["TRUSTED_PROXY_HOPS"] == "1"
    # The dev profile trusts the development key, handed over as a Secret instead of a provider URL.
    dev = manifests("dev-instances")
    assert not any("AUTH_JWKS_URL" in c["data"] for c in of_kind(dev, "ConfigMap"))
    for deployment in of_kind(dev, "Deployment"):
        if "-dev-" in deployment["metadata"]["name"]:
            continue
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        [jwks] = [e for e in container["env"] if e["name"] == "AUTH_JWKS"]
        assert jwks["valueFrom"]["secretKeyRef"] == {"name": "mynacar-dev-jwks", "key": "jwks.json"}


def test_the_ingress_routes_the_public_form_and_staff_apis_never_metrics_or_health():
    [ingress] = of_kind(manifests("external-databases"), "Ingress")
    public, staff = ingress["spec"]["rules"]
    check_public_host(public)
    routed = {p["path"]: p for p in staff["http"]["paths"]}
    assert not any(path.startswith(("/metrics", "/health", "/openapi")) for path in routed)
    # Every documented staff API path of every service has its prefix routed to that service, and no
    # prefix is routed that no service documents (the chart and the documents cannot drift).
    expected: dict[str, str] = {}
    for spec in SERVICE_SPECS:
        for path, operations in import_module(f"services.{spec.name}.api").OPENAPI["paths"].items():
            staff_uses = any(op.get("x-roles") for op in operations.values())  # residents' own: public host
            if path.startswith("/api/") and staff_uses:
                expected["/".join(path.split("/")[:4])] = f"mynacar-{spec.name}"
    api_paths = {path: p["backend"]["service"]["name"] for path, p in routed.items() if path.startswith("/api/")}
    assert api_paths == expected
    assert all(p["pathType"] == "Prefix" for path, p in routed.items() if path != "/")
    # The staff screens: "/" exactly, and a prefix for every page the portal serves.
    assert routed["/"]["pathType"] == "Exact" and routed["/"]["backend"]["service"]["name"] == "mynacar-portal"
    portal_prefixes = [path for path, p in routed.items() if p["backend"]["service"]["name"] == "mynacar-portal"]
    for _, url in portal_page_routes():
        if is_residents_page(url) and url != "/static/<name>":
            continue  # the public host's (below)
        assert url == "/" or any(url == prefix or url.startswith(prefix + "/") for prefix in portal_prefixes), url


def routes_to(url: str, paths: list[dict]) -> bool:
    """Whether one of the ingress's `paths` takes `url` (Exact: that path only; Prefix: it and below)."""
    return any(
        url == p["path"] or (p["pathType"] == "Prefix" and p["path"] != "/" and url.startswith(p["path"] + "/"))
        for p in paths
    )


def is_residents_page(url: str) -> bool:
    """The public host's pages: residents', and community-hall chairs' (volunteers, not staff)."""
    return url == "/" or url.startswith(("/apply", "/my", "/chair", "/static"))


def check_public_host(public: dict) -> None:
    """The public host routes what residents use and nothing else: every API path with an operation
    open to residents (no staff role), and the portal's residents' pages, never a staff page."""
    paths = public["http"]["paths"]
    by_service: dict[str, list[dict]] = {}
    for p in paths:
        by_service.setdefault(p["backend"]["service"]["name"], []).append(p)
    for spec in SERVICE_SPECS:
        mine = by_service.get(f"mynacar-{spec.name}", [])
        for path, operations in import_module(f"services.{spec.name}.api").OPENAPI["paths"].items():
            if not path.startswith("/api/"):
                continue
            for_residents = any(not op.get("x-roles") for op in operations.values())
            url = re.sub(r"\{\w+\}", "an-id", path)
            assert routes_to(url, mine) == for_residents, (spec.name, path)
    portal = by_service["mynacar-portal"]
    for _, url in portal_page_routes():
        residents = is_residents_page(url)
        assert routes_to(re.sub(r"<\w+>", "an-id", url), portal) == residents, url


def portal_page_routes() -> set[tuple[str, str]]:
    from nameko.web.handlers import HttpRequestHandler

    from services.portal.service import PortalService

    routes = set()
    for name in dir(PortalService):
        for entrypoint in getattr(getattr(PortalService, name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, HttpRequestHandler) and not entrypoint.url.startswith(
                ("/health", "/metrics", "/openapi")
            ):
                routes.add((entrypoint.method, entrypoint.url))
    assert routes
    return routes


def test_connection_strings_come_from_existing_secrets(value_set):
    for name, _, container in containers(value_set):
        if "-dev-" in name:
            continue
        env = {e["name"]: e for e in container["env"]}
        for variable in ("AMQP_URI", "MONGODB_URI"):
            assert "value" not in env[variable] and env[variable]["valueFrom"]["secretKeyRef"]["name"], name
    if value_set != "dev-instances":
        assert not of_kind(manifests(value_set), "Secret")


SECRET_KEYS = re.compile(r"(password|passwd|secret|token|apikey|api_key|credential)", re.I)


def walk(values, path=()):
    if isinstance(values, dict):
        for key, value in values.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from walk(value, (*path, str(index)))
    else:
        yield path, values


def test_the_default_values_hold_no_secret():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for path, value in walk(values):
        if SECRET_KEYS.search(path[-1]) and path[-1] not in (
            "existingSecret",
            "smtpSecret",
            "jwksSecret",
            "caSecret",
            "clientSecret",
            "secretPerService",  # a switch: whether each service reads its own Secret
        ):
            pytest.fail(f"{'.'.join(path)} looks like a secret value in values.yaml")
        if isinstance(value, str):
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", value), f"credentials in a URI at {'.'.join(path)}"


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"services": {"booking": {"replicas": 0}}}, "/services/booking/replicas"),
        ({"image": {"tag": "latest"}}, "/image/tag"),
        ({"config": {"logLevel": "LOUD"}}, "/config/logLevel"),
        ({"services": {"booking": {"replica": 2}}}, "additional properties 'replica'"),
        ({"securityContext": {"readOnlyRootFilesystem": False}}, "/securityContext/readOnlyRootFilesystem"),
        ({"rabbitmq": {"existingSecret": ""}}, "/rabbitmq/existingSecret"),
        ({"services": {"booking": {"env": {"lower_case": "x"}}}}, "/services/booking/env"),
        # Egress to the whole Internet is not a setting: the provider's and the relay's own ranges are.
        ({"auth": {"providerCidr": "0.0.0.0/0"}}, "/auth/providerCidr"),
        ({"networkPolicy": {"smtpCidr": "0.0.0.0/0"}}, "/networkPolicy/smtpCidr"),
        ({"networkPolicy": {"smtpCidr": "::/0"}}, "/networkPolicy/smtpCidr"),
    ],
)
def test_the_values_schema_refuses_a_wrong_value_and_says_where(values, where):
    with pytest.raises(helm.HelmValuesError) as refused:
        render(values)
    assert where in str(refused.value)


def test_asking_for_both_kinds_of_autoscaling_is_refused_clearly():
    with pytest.raises(helm.HelmRenderError, match="choose one of autoscaling"):
        render({"services": {"scheduling": {"autoscaling": {"enabled": True}, "keda": {"enabled": True}}}})


def test_only_booking_gets_the_residents_data_keys_and_a_channel_its_own():
    given = {}
    for deployment in of_kind(manifests("defaults"), "Deployment"):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        for variable in container.get("env", []):
            if variable["name"] == "DATA_KEYS":
                given[deployment["metadata"]["name"]] = variable["valueFrom"]["secretKeyRef"]
    assert given["mynacar-booking"] == {"name": "mynacar-data-keys", "key": "data-keys.json"}
    assert given["mynacar-liaison"] == {"name": "mynacar-data-keys-liaison", "key": "data-keys.json"}
    assert set(given) == {f"mynacar-{s.name}" for s in SERVICE_SPECS if "data_keys" in s.needs}
    assert [n for n, ref in given.items() if ref["name"] == "mynacar-data-keys"] == ["mynacar-booking"]


def test_the_channels_get_bookings_public_key_to_seal_to():
    public = '{"key": "2026-11", "public": "x"}'
    objects = render_manifests({"referralKey": {"public": public}})
    channels = {f"mynacar-{s.name}" for s in SERVICE_SPECS if s.channel}
    assert "mynacar-liaison" in channels
    for config in of_kind(objects, "ConfigMap"):
        name = config["metadata"]["name"]
        if name in channels:
            assert config["data"]["REFERRAL_PUBLIC_KEY"] == public
        else:
            assert "REFERRAL_PUBLIC_KEY" not in config.get("data", {}), name
    assert "referralKey.public is empty" in notes({}) and "referralKey.public is empty" not in notes(
        {"referralKey": {"public": public}}
    )


def test_with_broker_tls_every_service_checks_the_brokers_certificate_and_keda_too():
    for value_set, tls in (("broker-tls", True), ("keda", False)):
        for deployment in of_kind(manifests(value_set), "Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            [container] = pod["containers"]
            env = {e["name"]: e.get("value") for e in container["env"]}
            volumes = {v["name"]: v for v in pod["volumes"]}
            mounts = {m["name"]: m for m in container["volumeMounts"]}
            if not tls:
                assert "AMQP_CA_FILE" not in env and "rabbitmq-ca" not in volumes
                continue
            mount, volume = mounts["rabbitmq-ca"], volumes["rabbitmq-ca"]
            assert mount["readOnly"] and volume["secret"]["secretName"] == "mynacar-rabbitmq-tls"
            [item] = volume["secret"]["items"]
            assert env["AMQP_CA_FILE"] == f"{mount['mountPath']}/{item['path']}" and item["key"] == "ca.crt"
            client_mount, client = mounts["rabbitmq-client"], volumes["rabbitmq-client"]["secret"]
            assert client_mount["readOnly"] and client["secretName"] == "mynacar-amqp-client"
            files = {i["key"]: f"{client_mount['mountPath']}/{i['path']}" for i in client["items"]}
            assert (env["AMQP_CLIENT_CERT_FILE"], env["AMQP_CLIENT_KEY_FILE"]) == (files["tls.crt"], files["tls.key"])
        [auth] = of_kind(manifests(value_set), "TriggerAuthentication")
        from_secrets = {ref["parameter"]: ref for ref in auth["spec"]["secretTargetRef"]}
        from_maps = {ref["parameter"]: ref for ref in auth["spec"].get("configMapTargetRef", [])}
        if not tls:
            assert set(from_secrets) == {"host"} and not from_maps
            continue
        assert from_secrets["ca"] == {"parameter": "ca", "name": "mynacar-rabbitmq-tls", "key": "ca.crt"}
        assert from_secrets["cert"] == {"parameter": "cert", "name": "mynacar-amqp-client", "key": "tls.crt"}
        assert from_secrets["key"] == {"parameter": "key", "name": "mynacar-amqp-client", "key": "tls.key"}
        [switch] = [
            m for m in of_kind(manifests(value_set), "ConfigMap") if m["metadata"]["name"] == from_maps["tls"]["name"]
        ]
        assert switch["data"][from_maps["tls"]["key"]] == "enable"
    broker_ports = {
        port["port"]
        for policy in of_kind(manifests("broker-tls"), "NetworkPolicy")
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }
    assert 5671 in broker_ports and 5672 not in broker_ports


def test_another_towns_municipality_file_is_mounted_from_a_config_map_in_every_pod():
    from shared.municipality import parse

    rendered = manifests("own-municipality-file")
    [town] = [o for o in of_kind(rendered, "ConfigMap") if o["metadata"]["name"].endswith("-municipality")]
    assert parse(yaml.safe_load(town["data"]["municipality.yaml"])).name == "山あい町"
    for deployment in of_kind(rendered, "Deployment"):
        if not deployment["metadata"]["name"].startswith("mynacar-"):
            continue
        pod = deployment["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if v["name"] == "municipality"]
        assert volume["configMap"]["name"] == town["metadata"]["name"]
        [mount] = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "municipality"]
        assert mount["readOnly"] and mount["mountPath"] == "/etc/mynacar/municipality"
    service_maps = [o for o in of_kind(rendered, "ConfigMap") if "MUNICIPALITY_CONFIG" in o.get("data", {})]
    assert service_maps and all(
        m["data"]["MUNICIPALITY_CONFIG"] == "/etc/mynacar/municipality/municipality.yaml" for m in service_maps
    )
    # Without one, the image's own file by name, and no such ConfigMap.
    defaults = manifests("defaults")
    assert not [o for o in of_kind(defaults, "ConfigMap") if o["metadata"]["name"].endswith("-municipality")]


def test_each_service_signs_in_to_the_broker_as_itself_and_keda_too():
    for value_set, per_service in (("keda", True), ("dev-instances", False)):
        objects = manifests(value_set)
        for deployment in of_kind(objects, "Deployment"):
            if "-dev-" in deployment["metadata"]["name"]:
                continue
            service = deployment["metadata"]["name"].removeprefix("mynacar-")
            [container] = deployment["spec"]["template"]["spec"]["containers"]
            [amqp] = [e for e in container["env"] if e["name"] == "AMQP_URI"]
            expected = f"mynacar-rabbitmq-{service}" if per_service else "mynacar-dev-rabbitmq"
            assert amqp["valueFrom"]["secretKeyRef"]["name"] == expected
    [auth] = of_kind(manifests("keda"), "TriggerAuthentication")
    [host] = [ref for ref in auth["spec"]["secretTargetRef"] if ref["parameter"] == "host"]
    assert host["name"] == "mynacar-rabbitmq-keda"


def test_only_notification_holds_its_signing_key_and_only_booking_the_public_keys():
    holders: dict[str, set[tuple[str, str]]] = {"SERVICE_KEY": set(), "SERVICE_KEYS": set()}
    for deployment in of_kind(manifests("defaults"), "Deployment"):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        for variable in container.get("env", []):
            if variable["name"] in holders:
                ref = variable["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "mynacar-service-keys"
                holders[variable["name"]].add((deployment["metadata"]["name"], ref["key"]))
    assert holders["SERVICE_KEY"] == {("mynacar-notification", "notification.pem")}
    assert holders["SERVICE_KEYS"] == {("mynacar-booking", "public.json")}


def test_each_service_reaches_the_database_as_its_own_user():
    for deployment in of_kind(manifests("external-databases"), "Deployment"):
        service = deployment["metadata"]["name"].removeprefix("mynacar-")
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        [uri] = [e for e in container["env"] if e["name"] == "MONGODB_URI"]
        assert uri["valueFrom"]["secretKeyRef"]["name"].endswith(f"-{service}")
