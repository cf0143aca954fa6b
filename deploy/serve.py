"""Starts one service by name: `python -m deploy.serve booking` (or MYNACAR_SERVICE=booking).

The container image's entrypoint, the Helm chart's command and `make run` all start services
through here, so they cannot drift apart. It replaces itself with `nameko run`, so signals reach
nameko directly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from deploy.services import spec
from shared import broker, settings

CONFIG = Path(__file__).resolve().parent / "config.yaml"


def command(name: str) -> list[str]:
    return [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), spec(name).target]


def main(argv: list[str]) -> None:
    name = argv[0] if argv else os.environ.get("MYNACAR_SERVICE", "")
    if not name:
        sys.exit("usage: python -m deploy.serve <service> (or set MYNACAR_SERVICE)")
    try:
        args = command(name)
    except KeyError as error:
        sys.exit(str(error))
    # nameko reads its TLS options from the configuration: the same ones shared.broker uses.
    os.environ["AMQP_SSL"] = broker.nameko_ssl_setting(settings.amqp_uri())
    os.execv(args[0], args)


if __name__ == "__main__":
    main(sys.argv[1:])
