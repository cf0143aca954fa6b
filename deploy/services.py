"""The services mynacar runs: one list for the container entry, `make run`, the tests and the chart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    target: str  # module:Class for `nameko run`
    port: int  # the local port (`make run`); in a container every service listens on 8000
    # Debian packages its image installs (the Dockerfile's SYSTEM_PACKAGES; skaffold.yaml lists the same).
    system_packages: tuple[str, ...] = ()


SERVICES = (
    ServiceSpec("booking", "services.booking.service:BookingService", 8001),
    ServiceSpec("scheduling", "services.scheduling.service:SchedulingService", 8002),
    ServiceSpec("notification", "services.notification.service:NotificationService", 8003),
    ServiceSpec(
        "outreach",
        "services.outreach.service:OutreachService",
        8004,
        system_packages=("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk"),
    ),
    ServiceSpec("liaison", "services.liaison.service:LiaisonChannelService", 8005),
    ServiceSpec("portal", "services.portal.service:PortalService", 8006),
)


def spec(name: str) -> ServiceSpec:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"no service called {name!r}; known: {', '.join(s.name for s in SERVICES)}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["packages"]:  # `python -m deploy.services packages outreach`, for `make images`
        print(" ".join(spec(sys.argv[2]).system_packages))
    else:
        print(" ".join(service.name for service in SERVICES))  # for the Makefile
