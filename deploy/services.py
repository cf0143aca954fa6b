"""The services mynacar runs: one list for the container entry, `make run`, the tests and the chart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    target: str  # module:Class for `nameko run`
    port: int  # the local port (`make run`); in a container every service listens on 8000
    # What `make run` prints for it: a page to start from and what it is for.
    home: str = ""
    summary: str = ""
    # Debian packages its image installs (the Dockerfile's SYSTEM_PACKAGES; skaffold.yaml lists the same).
    system_packages: tuple[str, ...] = ()
    # Secrets the chart hands it: "data_keys" (it seals or opens personal data), "smtp" (it sends mail),
    # "service_key" (it asks for personal data on its own behalf, signing with its key) and
    # "service_trust" (it checks such requests with the others' public keys); shared.rpc_identity.
    needs: tuple[str, ...] = ()
    # An outreach channel: it publishes referrals to outreach.channels with the routing key
    # referral.<name>, and only that key (deploy/broker_access.py).
    channel: bool = False


# Adding a service or an outreach channel: its folder under services/, one entry here, `make docs`
# (the chart's service facts and skaffold.yaml are generated from this list; README "Adding a channel").
SERVICES = (
    ServiceSpec(
        "booking",
        "services.booking.service:BookingService",
        8001,
        home="/api/v1/bookings",
        summary="post a booking, read or cancel one",
        needs=("data_keys", "service_trust"),
    ),
    ServiceSpec(
        "scheduling",
        "services.scheduling.service:SchedulingService",
        8002,
        home="/api/v1/visits",
        summary="slot suggestions, fixing, crew days",
    ),
    ServiceSpec(
        "notification",
        "services.notification.service:NotificationService",
        8003,
        home="/api/v1/call-tasks",
        summary="the day-of phone calls (?date=YYYY-MM-DD)",
        needs=("smtp", "service_key"),
    ),
    ServiceSpec(
        "outreach",
        "services.outreach.service:OutreachService",
        8004,
        home="/api/v1/funnel",
        summary="the funnel per channel and district",
        system_packages=("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk"),
    ),
    ServiceSpec(
        "liaison",
        "services.liaison.service:LiaisonChannelService",
        8005,
        home="/api/v1/referrals",
        summary="the community-hall liaison channel",
        needs=("data_keys", "smtp"),
        channel=True,
    ),
    ServiceSpec(
        "portal", "services.portal.service:PortalService", 8006, home="/", summary="the staff screens (日本語)"
    ),
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
