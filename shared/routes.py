"""One declaration per HTTP route: the service's `api.py` describes each operation once (method, path,
roles, schemas, answers: shared.openapi.Operation), and `@route(api.X)` serves it. The OpenAPI
document and the chart's ingress paths (deploy/tools/deployfiles.py) come from the same object, so
the three cannot drift."""

from __future__ import annotations

from collections.abc import Callable

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from shared.auth import OtherScheme, staff
from shared.http import api
from shared.openapi import Operation


def route(op: Operation, other: OtherScheme | None = None) -> Callable[[Callable[..., Response]], Callable]:
    """Serves `op`: nameko's @http for its method and path, @api's answers for failures, and @staff
    for its roles. An operation with no roles is open: the handler puts its own guard (@public)
    under this one. `other`: the service's own sign-in scheme, for operations marked `chair`."""
    if op.chair != (other is not None):
        raise ValueError(f"{op.method} {op.path}: a chair's operation needs the chair scheme, and only it does")

    def decorate(handler: Callable[..., Response]) -> Callable:
        guarded = staff(*op.roles, other=other)(handler) if op.roles else handler
        return http(op.method, op.path)(api(guarded))

    return decorate
