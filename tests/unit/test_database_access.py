"""Each service's MongoDB user (deploy/database_access.py): what the operator is given, and booking's
worker held to its grant in every unit test (tests/factories.py)."""

import pytest

from deploy import database_access
from deploy.services import SERVICES
from deploy.tools.deployfiles import ROOT
from services.booking.service import BookingService
from tests.factories import worker


def test_bookings_worker_may_add_to_the_audit_log_but_never_change_it(db):
    service = worker(BookingService, db)
    service.db.audit.insert_one({"_id": "e1", "subject": "x"})
    assert service.db.audit.find_one({"_id": "e1"})
    for change in (
        lambda: service.db.audit.update_one({"_id": "e1"}, {"$set": {"subject": "y"}}),
        lambda: service.db.audit.delete_many({}),
        lambda: service.db["audit"].find_one_and_delete({"_id": "e1"}),
        lambda: service.db.applied_events.delete_many({}),
    ):
        with pytest.raises(PermissionError):
            change()
    assert db.audit.find_one({"_id": "e1"})["subject"] == "x"
    service.db.bookings.update_one({"_id": "b"}, {"$set": {"x": 1}}, upsert=True)  # its own records: allowed


def test_the_operator_gets_one_user_per_service_each_on_its_own_database():
    spec = database_access.operator_spec()
    users = {u["name"]: u for u in spec["spec"]["users"]}
    assert set(users) == {f"mynacar-{s.name}" for s in SERVICES}
    assert users["mynacar-scheduling"]["roles"] == [{"name": "readWrite", "db": "mynacar_scheduling"}]
    [role] = spec["spec"]["security"]["roles"]
    assert role["role"] == "mynacar-booking" and users["mynacar-booking"]["roles"] == [
        {"name": "mynacar-booking", "db": "admin"}
    ]
    changing = {p["resource"]["collection"] for p in role["privileges"] if "update" in p["actions"]}
    assert "audit" not in changing and "bookings" in changing
    assert {p["resource"]["db"] for p in role["privileges"]} == {"mynacar_booking"}
    assert all(
        u["connectionStringSecretName"] == f"{name.replace('mynacar-', 'mynacar-mongodb-')}"
        for name, u in users.items()
    )


def test_the_table_in_the_deploy_notes_is_the_one_the_code_gives():
    assert database_access.table() in (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
