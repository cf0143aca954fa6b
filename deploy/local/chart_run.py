"""Runs the services exactly as the chart declares them, as local processes: each Deployment's
command, args and environment (its ConfigMap through envFrom, Secrets through secretKeyRef), with
the readiness probe on the port it declares. Each pod gets a loopback address of its own
(127.0.0.2, 127.0.0.3, ...), as each pod has its own IP in a cluster, so all can listen on the
same declared port. The image's WORKDIR is the checkout; its PATH is the virtualenv's."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Workload:
    name: str  # the container's name: the service
    command: list[str]
    env: dict[str, str]
    host: str
    port: int
    readiness_path: str
    liveness_path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _port(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


def container_env(container: dict, config_maps: dict[str, dict], secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """The environment Kubernetes would give the container; a Secret key we were not given is an error."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
            continue
        ref = variable["valueFrom"]
        if "secretKeyRef" in ref:
            key = (ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"])
            if key not in secrets:
                raise KeyError(f"{container['name']}: no value given for Secret {key[0]} key {key[1]}")
            env[variable["name"]] = secrets[key]
        elif "configMapKeyRef" in ref:
            env[variable["name"]] = config_maps[ref["configMapKeyRef"]["name"]]["data"][ref["configMapKeyRef"]["key"]]
        else:
            raise ValueError(f"{container['name']}: unsupported env source {sorted(ref)}")
    return env


def workloads(objects: list[dict], secrets: dict[tuple[str, str], str], first_host: int = 2) -> list[Workload]:
    config_maps = _by_kind(objects, "ConfigMap")
    found = []
    for index, (_, deployment) in enumerate(sorted(_by_kind(objects, "Deployment").items())):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        host = f"127.0.0.{first_host + index}"
        port = _port(container, container["readinessProbe"]["httpGet"]["port"])
        env = container_env(container, config_maps, secrets)
        # The pod listens on all its addresses; here, on its own loopback address, same port.
        listen_host, _, listen_port = env["WEB_SERVER_ADDRESS"].rpartition(":")
        if int(listen_port) != port or listen_host not in ("0.0.0.0", ""):
            raise ValueError(f"{container['name']}: listens on {env['WEB_SERVER_ADDRESS']}, probed on port {port}")
        env["WEB_SERVER_ADDRESS"] = f"{host}:{port}"
        found.append(
            Workload(
                name=container["name"],
                command=[*container.get("command", []), *container.get("args", [])],
                env=env,
                host=host,
                port=port,
                readiness_path=container["readinessProbe"]["httpGet"]["path"],
                liveness_path=container["livenessProbe"]["httpGet"]["path"],
            )
        )
    return found


def process_env(workload: Workload) -> dict[str, str]:
    """Only what the container would have, plus PATH to the virtualenv (the image's /opt/venv)."""
    venv_bin = str(Path(sys.executable).parent)
    return {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **workload.env}
