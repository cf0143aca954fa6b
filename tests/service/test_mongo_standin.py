"""The MongoDB stand-in server answers pymongo as MongoDB would for the calls our services make."""

import datetime as dt
import subprocess
import sys

import pymongo
import pytest
from nameko.testing.utils import find_free_port
from pymongo import ReturnDocument

from deploy.local.stack import ROOT, port_open
from tests.bus import wait_until


@pytest.fixture(scope="module")
def client():
    port = find_free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.mongo_standin", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    wait_until(lambda: port_open("127.0.0.1", port), timeout=15)
    client = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{port}/?directConnection=true", tz_aware=True, serverSelectionTimeoutMS=5000
    )
    yield client
    client.close()
    process.terminate()
    process.wait(10)


@pytest.fixture
def db(client, request):
    return client[request.node.name[:40]]


def test_equality_queries_follow_mongodb_rules(db):
    db.c.insert_many(
        [
            {"_id": 1, "k": "a", "tags": ["x", "y"], "slot": {"crew_id": "c1"}, "flag": True},
            {"_id": 2, "k": "b", "n": None, "flag": 1},
            {"_id": 3, "k": "a", "slot": {"crew_id": "c2"}},
        ]
    )
    assert [d["_id"] for d in db.c.find({"k": "a"})] == [1, 3]
    assert db.c.find_one({"_id": 2})["k"] == "b" and db.c.find_one({"_id": 9}) is None
    assert [d["_id"] for d in db.c.find({"tags": "y"})] == [1]  # a value inside an array matches
    assert [d["_id"] for d in db.c.find({"n": None})] == [1, 2, 3]  # null or missing
    assert [d["_id"] for d in db.c.find({"slot.crew_id": "c2"})] == [3]
    assert [d["_id"] for d in db.c.find({"flag": True})] == [1]  # true is not 1
    assert [d["_id"] for d in db.c.find({"k": {"$in": ["b"]}})] == [2]
    assert [d["_id"] for d in db.c.find({"tags.1": {"$exists": True}})] == [1]
    assert [d["_id"] for d in db.c.find({"tags.2": {"$exists": True}})] == []
    assert [d["_id"] for d in db.c.find({"slot": {"$exists": False}})] == [2]


def test_unique_and_sparse_indexes_refuse_duplicates(db):
    db.c.create_index("ref", unique=True)
    db.c.create_index("referral", unique=True, sparse=True)
    db.c.insert_one({"ref": "r1"})
    db.c.insert_one({"ref": "r2"})  # no referral: sparse
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.c.insert_one({"ref": "r1"})
    db.c.insert_one({"ref": "r3", "referral": "x"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.c.insert_one({"ref": "r4", "referral": "x"})
    assert db.c.count_documents({}) == 3


def test_updates_counters_and_outbox_pulls(db):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    db.c.insert_one({"_id": "b", "outbox": [{"event": {"event_id": "e1"}}, {"event": {"event_id": "e2"}}], "at": now})
    db.c.update_one({"_id": "b"}, {"$pull": {"outbox": {"event.event_id": "e1"}}})
    assert [e["event"]["event_id"] for e in db.c.find_one({"_id": "b"})["outbox"]] == ["e2"]
    assert db.c.find_one({"_id": "b"})["at"] == now
    # the relay's batch: events pulled from several documents in one update, unknown ids ignored
    db.c.insert_many([{"_id": "x", "outbox": [{"event": {"event_id": "x1"}}]}, {"_id": "y", "outbox": []}])
    pulled = db.c.update_many(
        {"_id": {"$in": ["b", "x", "y", "gone"]}}, {"$pull": {"outbox": {"event.event_id": {"$in": ["e2", "x1"]}}}}
    )
    assert pulled.matched_count == 3 and pulled.modified_count == 2
    assert db.c.count_documents({"outbox.0": {"$exists": True}}) == 0
    assert sorted(d["_id"] for d in db.c.find({"_id": {"$in": ["y", "b", "b"]}})) == ["b", "y"]
    db.c.delete_many({"_id": {"$in": ["x", "y"]}})
    for expected in (1, 2):
        counter = db.n.find_one_and_update(
            {"_id": "day"}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter["seq"] == expected
    assert list(db.c.aggregate([{"$project": {"n": {"$size": "$outbox"}}}])) == [{"_id": "b", "n": 0}]
    assert db.c.distinct("_id") == ["b"]
    assert db.c.delete_many({}).deleted_count == 1


def test_an_unknown_command_fails_loudly(db):
    with pytest.raises(pymongo.errors.OperationFailure):
        db.command("collMod", "c")


def test_unique_indexes_follow_updates_and_deletes(db):
    db.u.create_index("ref", unique=True)
    db.u.insert_one({"_id": 1, "ref": "a"})
    db.u.update_one({"_id": 1}, {"$set": {"ref": "b"}})
    db.u.insert_one({"_id": 2, "ref": "a"})  # "a" is free again
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.u.update_one({"_id": 2}, {"$set": {"ref": "b"}})
    db.u.delete_one({"_id": 1})
    db.u.insert_one({"_id": 3, "ref": "b"})  # "b" is free again
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.u.insert_one({"_id": 4, "ref": "b"})
    assert sorted(d["ref"] for d in db.u.find()) == ["a", "b"]
