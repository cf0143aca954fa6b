"""The Helm chart, driven by Helm's own Go SDK (helm-python-sdk): no `helm` binary needed.

    python -m deploy.chart render [-f values.yaml ...]        # like `helm template`
    python -m deploy.chart deploy -f values.yaml [--namespace mynacar] [--release mynacar]
                                                              # like `helm upgrade --install`
The tests render through `render_manifests`, so they check exactly what operations deploy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "charts" / "mynacar"
VALUES_DIR = ROOT / "deploy" / "values"


def merge(base: dict, override: dict) -> dict:
    """Values files layered as Helm layers them: maps merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        both_maps = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = merge(merged[key], value) if both_maps else value
    return merged


def load_values(*paths: Path | str) -> dict:
    values: dict = {}
    for path in paths:
        values = merge(values, yaml.safe_load(Path(path).read_text()) or {})
    return values


def render(values: dict | None = None, release: str = "mynacar", namespace: str = "mynacar") -> dict[str, str]:
    """Template path -> rendered text, as Helm renders it for an install (schema checked first)."""
    chart = helm.Chart.load(CHART)
    try:
        return chart.render(values or {}, name=release, namespace=namespace, is_install=True)
    finally:
        chart.close()


def render_manifests(values: dict | None = None, release: str = "mynacar", namespace: str = "mynacar") -> list[dict]:
    """Every Kubernetes object the chart makes for these values."""
    objects = []
    for path, text in sorted(render(values, release, namespace).items()):
        if path.endswith("NOTES.txt"):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def notes(values: dict | None = None, release: str = "mynacar", namespace: str = "mynacar") -> str:
    rendered = render(values, release, namespace)
    return next((text for path, text in rendered.items() if path.endswith("NOTES.txt")), "")


def deploy(values: dict, release: str, namespace: str, timeout: int) -> Any:
    config = helm.Config(namespace=namespace)
    try:
        try:
            return config.upgrade(CHART, release, values, namespace=namespace, timeout=timeout, wait="watcher")
        except helm.HelmNotFoundError:
            return config.install(
                CHART, release, values, namespace=namespace, timeout=timeout, wait="watcher", create_namespace=True
            )
    finally:
        config.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.chart", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("render", "deploy"))
    parser.add_argument("-f", "--values", action="append", default=[], help="values file (repeatable)")
    parser.add_argument("--release", default="mynacar")
    parser.add_argument("--namespace", default="mynacar")
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args(argv)
    values = load_values(*args.values)
    try:
        if args.action == "render":
            for path, text in sorted(render(values, args.release, args.namespace).items()):
                if text.strip() and not path.endswith("NOTES.txt"):
                    print(f"---\n# Source: {path}\n{text.strip()}")
        else:
            release = deploy(values, args.release, args.namespace, args.timeout)
            print(f"deployed {args.release} to {args.namespace}: {release}")
            print(notes(values, args.release, args.namespace))
    except helm.HelmError as error:
        sys.exit(f"{args.action} failed: {error}")


if __name__ == "__main__":
    main(sys.argv[1:])
