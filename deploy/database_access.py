"""Each service's own MongoDB user and what it may do (issue 18, item 3; docs/deploy.md).

Every service reaches only its own database, `<prefix><service>`. There it may find and insert in
any collection, and update or delete only in the collections listed as changeable: booking may
never change or remove an audit entry (`audit` is insert and find only), nor a record of an event
it applied. A service with no list has MongoDB's built-in `readWrite` on its database.

    python -m deploy.database_access operator   # users and roles for a MongoDBCommunity resource
    python -m deploy.database_access table      # the table in docs/deploy.md

The MongoDB stand-in that `make run` and the tests use has no users; the unit tests hold booking's
worker to the same grants (tests/factories.py: `worker` gives it a database that refuses the rest),
and a real MongoDB enforces them in production."""

from __future__ import annotations

import argparse
import json

import yaml

from deploy.services import SERVICES

# Collections a service may update or delete in; all others only find and insert. None: readWrite.
CHANGEABLE: dict[str, tuple[str, ...] | None] = {
    "booking": ("bookings", "short_referrals", "counters"),
}
READ_INSERT = ["find", "insert", "createIndex", "listIndexes", "listCollections", "collStats", "dbStats"]
CHANGE = ["update", "remove"]


def database(service: str, prefix: str = "mynacar_") -> str:
    return f"{prefix}{service}"


def role_name(service: str) -> str:
    return f"mynacar-{service}"


def roles(service: str, prefix: str = "mynacar_") -> list[dict]:
    """The roles one service's user is given."""
    changeable = CHANGEABLE.get(service)
    if changeable is None:
        return [{"name": "readWrite", "db": database(service, prefix)}]
    return [{"name": role_name(service), "db": "admin"}]


def custom_roles(prefix: str = "mynacar_") -> list[dict]:
    """The custom roles, as MongoDBCommunity's `spec.security.roles` takes them."""
    found = []
    for service, changeable in CHANGEABLE.items():
        if changeable is None:
            continue
        db = database(service, prefix)
        privileges = [{"resource": {"db": db, "collection": ""}, "actions": READ_INSERT}]
        privileges += [{"resource": {"db": db, "collection": name}, "actions": CHANGE} for name in changeable]
        found.append({"role": role_name(service), "db": "admin", "privileges": privileges, "roles": []})
    return found


def operator_spec(prefix: str = "mynacar_") -> dict:
    """The part of a MongoDBCommunity resource that makes one user, and one Secret, per service."""
    users = [
        {
            "name": f"mynacar-{spec.name}",
            "db": "admin",
            "passwordSecretRef": {"name": f"mynacar-mongodb-{spec.name}-password"},
            "roles": roles(spec.name, prefix),
            "scramCredentialsSecretName": f"mynacar-{spec.name}-scram",
            # The operator writes the connection string here; the chart reads it (mongodb.secretPerService).
            "connectionStringSecretName": f"mynacar-mongodb-{spec.name}",
        }
        for spec in SERVICES
    ]
    return {
        "spec": {"security": {"authentication": {"modes": ["SCRAM"]}, "roles": custom_roles(prefix)}, "users": users}
    }


def table() -> str:
    rows = ["| user | database | may |", "|---|---|---|"]
    for spec in SERVICES:
        changeable = CHANGEABLE.get(spec.name)
        may = (
            "read and write"
            if changeable is None
            else "find and insert in any collection; update and delete only in "
            + ", ".join(f"`{c}`" for c in changeable)
        )
        rows.append(f"| `mynacar-{spec.name}` | `{database(spec.name)}` | {may} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="Each service's MongoDB user and grants.")
    parser.add_argument("command", choices=("operator", "table", "json"))
    parser.add_argument("--prefix", default="mynacar_")
    args = parser.parse_args()
    if args.command == "operator":
        print(yaml.safe_dump(operator_spec(args.prefix), sort_keys=False, allow_unicode=True))
    elif args.command == "json":
        print(json.dumps(operator_spec(args.prefix), indent=2))
    else:
        print(table())


if __name__ == "__main__":
    main()
