"""The alert rules, the dashboard and the metrics catalogue, checked with Prometheus's own promtool
against the metrics the services really export."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from deploy.chart import CHART, ROOT
from deploy.services import SERVICES
from shared.metrics import common, registry_for

RULES = CHART / "files" / "prometheus" / "alerts.yaml"
RULE_TESTS = Path(__file__).parent / "alerts_test.yaml"
DASHBOARD = CHART / "files" / "dashboards" / "mynacar.json"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
CATALOGUE = ROOT / "docs" / "metrics.md"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
METRIC_NAME = re.compile(r"\b(mynacar_[a-z0-9_]+)")


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd)


def alerts() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def exported_series() -> dict[str, str]:
    """Every series name the five services can export -> its type, read from their registries."""
    for spec in SERVICES:
        importlib.import_module(spec.target.split(":")[0])  # registers the service's own metrics
        common(spec.name)
    names: dict[str, str] = {}
    for spec in SERVICES:
        registry: CollectorRegistry = registry_for(spec.name)
        for family in registry.collect():
            if not family.name.startswith("mynacar_"):
                continue  # process_* from prometheus_client
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
            for suffix in suffixes.get(family.type, ("",)):
                names[family.name + suffix] = family.type
    return names


def test_promtool_accepts_the_rules():
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0 and "SUCCESS: 11 rules found" in result.stdout, result.stdout + result.stderr


def test_every_alert_behaves_as_its_unit_tests_say():
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_is_silent():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for alert in alerts():
        mine = [case for case in cases if case["alertname"] == alert["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{alert['alert']} is never shown firing"
        assert any(not case["exp_alerts"] for case in mine), f"{alert['alert']} is never shown silent"


def test_the_unit_tests_would_catch_a_changed_threshold(tmp_path):
    loosened = RULES.read_text().replace("> 0.05", "> 0.5").replace(">= 3", ">= 5")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "alerts.yaml").write_text(loosened)
    tests = yaml.safe_load(RULE_TESTS.read_text())
    tests["rule_files"] = ["rules/alerts.yaml"]
    (tmp_path / "alerts_test.yaml").write_text(yaml.safe_dump(tests))
    result = promtool("test", "rules", "alerts_test.yaml", cwd=tmp_path)
    assert result.returncode != 0
    assert "MynacarHandlerErrors" in result.stdout + result.stderr
    assert "MynacarSchedulingStalled" in result.stdout + result.stderr


def test_every_alert_has_severity_summary_and_a_runbook_section_that_exists():
    headings = {
        re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-"))
        for h in re.findall(r"^## (.+)$", RUNBOOKS.read_text(), re.M)
    }
    for alert in alerts():
        assert alert["labels"]["severity"] in ("critical", "warning")
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
        url = alert["annotations"]["runbook_url"]
        assert url.startswith("https://github.com/mynacar/mynacar/blob/main/docs/runbooks.md#")
        assert url.split("#")[1] in headings, f"{alert['alert']}: no section #{url.split('#')[1]} in docs/runbooks.md"


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_alerts_and_dashboard_use_only_metrics_the_services_export():
    exported = exported_series()
    used = {name for alert in alerts() for name in METRIC_NAME.findall(alert["expr"])}
    used |= {name for expr in dashboard_expressions() for name in METRIC_NAME.findall(expr)}
    assert used and not used - set(exported), f"not exported by any service: {sorted(used - set(exported))}"


def test_every_dashboard_query_is_valid_promql(tmp_path):
    rules = [
        {"record": f"dashboard:query{i}", "expr": expr.replace("$__range", "7d").replace("$job", "booking")}
        for i, expr in enumerate(dashboard_expressions())
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_metrics_catalogue_lists_every_exported_metric_with_its_type():
    catalogue = CATALOGUE.read_text()
    rows = dict(re.findall(r"^\| `(mynacar_[a-z0-9_]+)` \| (\w+) \|", catalogue, re.M))
    families = {}
    for series, kind in exported_series().items():
        family = re.sub(r"_(total|bucket|count|sum)$", "", series) if kind != "gauge" else series
        families[family + ("_total" if kind == "counter" else "")] = kind
    assert set(rows) == set(families), (sorted(set(families) - set(rows)), sorted(set(rows) - set(families)))
    for name, kind in families.items():
        assert rows[name] == kind, name


ALLOWED_LABELS = {"channel", "district", "crew_id", "kind", "status", "outcome", "reason", "entrypoint", "event_type"}
ALLOWED_LABELS |= {"consumer", "result", "queue"}


def test_metric_labels_are_codes_never_personal_data():
    """Labels are declared, not only seen: read them off each metric (prometheus_client keeps them
    on the collector) so a label that nobody has filled yet is checked too."""
    exported_series()
    for spec in SERVICES:
        for collector in registry_for(spec.name)._collector_to_names:
            labels = set(getattr(collector, "_labelnames", ()))
            assert labels <= ALLOWED_LABELS, f"{getattr(collector, '_name', collector)}: {labels - ALLOWED_LABELS}"
