"""A MongoDB stand-in server: mongomock behind the MongoDB wire protocol, in a process of its own.

No MongoDB server can be installed on our build machines. In-process mongomock (shared.db) serves
unit tests, but its data dies with the service process. The local stack and the fault suite need
what a real server gives: data that outlives a killed service, reached by pymongo over a socket
(the production code path, eventlet included). This server speaks enough of the protocol for the
pymongo calls our services make (OP_QUERY handshake, OP_MSG commands) and keeps the data in one
mongomock client. It is a test double, not a database: no auth, no durability across its own
restarts, no transactions. Point MONGODB_URI at it: mongodb://127.0.0.1:PORT/?directConnection=true
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import logging
import signal
import socketserver
import struct
import threading
import uuid
from typing import Any

import bson
import mongomock
import mongomock.collection
import mongomock.filtering
from bson.codec_options import CodecOptions
from pymongo import ReturnDocument

log = logging.getLogger("mongo_standin")

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
CODEC = CodecOptions(tz_aware=True, tzinfo=dt.UTC)
MAX_WIRE_VERSION = 17  # MongoDB 6.0
_ids = itertools.count(1)


# --- faster lookups ---------------------------------------------------------------------------
# mongomock answers every query by running its filter engine over every document, and checks each
# unique index the same way on every write: O(n) with a large constant, which makes a stand-in that
# has served a few thousand bookings slower than our code by far. Equality filters on plain values
# (what our services mostly ask) are answered here by direct comparison, `_id` by a dict lookup.
_PLAIN = (str, int, float, bool, type(None), dt.datetime, bson.ObjectId, uuid.UUID)
_MISSING = object()


def _value(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(document, list) and part.isdigit():
            if int(part) >= len(document):
                return _MISSING
            document = document[int(part)]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return _MISSING
    return document


def _stored(store: Any, document_id: Any) -> dict | None:
    # mongomock's CollectionStore has __contains__ and __getitem__ but no get()
    return store[document_id] if document_id in store else None  # noqa: SIM401


def _is_exists(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["$exists"] and isinstance(value["$exists"], bool)


def _simple(filter: Any) -> bool:
    return (
        isinstance(filter, dict)
        and bool(filter)
        and all(
            not key.startswith("$") and (isinstance(value, _PLAIN) or _is_exists(value))
            for key, value in filter.items()
        )
    )


def _matches(document: dict, filter: dict) -> bool:
    for key, wanted in filter.items():
        actual = _value(document, key)
        if _is_exists(wanted):
            if (actual is not _MISSING) != wanted["$exists"]:
                return False
            continue
        if isinstance(actual, list | dict):
            return mongomock.filtering.filter_applies(filter, document)  # mongomock's own rules
        if actual is _MISSING:
            actual = None
        if actual != wanted or isinstance(actual, bool) != isinstance(wanted, bool):
            return False
    return True


_original_iter_documents = mongomock.collection.Collection._iter_documents


def _ids_in(filter: Any) -> list | None:
    """The ids of an `{"_id": {"$in": [...]}}` filter (how the outbox relay names a batch)."""
    if isinstance(filter, dict) and list(filter) == ["_id"] and isinstance(filter["_id"], dict):
        wanted = filter["_id"]
        if list(wanted) == ["$in"] and all(isinstance(value, _PLAIN) for value in wanted["$in"]):
            return list(dict.fromkeys(wanted["$in"]))
    return None


def _iter_documents(self: Any, filter: Any) -> Any:
    ids = _ids_in(filter)
    if ids is not None:
        return iter([found for found in (_stored(self._store, i) for i in ids) if found is not None])
    if not _simple(filter):
        return _original_iter_documents(self, filter)
    if list(filter) == ["_id"]:
        found = _stored(self._store, filter["_id"])
        return iter([found] if found is not None else [])
    return (document for document in list(self._store.documents) if _matches(document, filter))


mongomock.collection.Collection._iter_documents = _iter_documents

# Unique indexes: a table per index from key values to ids, checked on every write. Entries can go
# stale (a document updated in place or deleted); each hit is verified against the stored document
# and stale ids are dropped, so the table never refuses what MongoDB would accept.
_unique_tables: dict[tuple[int, str], dict[tuple, set]] = {}
_original_ensure_uniques = mongomock.collection.Collection._ensure_uniques


def _key_of(document: dict, keys: list[str]) -> tuple:
    values = []
    for key in keys:
        value = _value(document, key)
        value = None if value is _MISSING else value
        values.append(value if isinstance(value, _PLAIN) else repr(value))
    return tuple(values)


def _ensure_uniques(self: Any, new_data: dict) -> None:
    indexes = self._store.indexes
    if any(index.get("partialFilterExpression") is not None for index in indexes.values()):
        return _original_ensure_uniques(self, new_data)
    new_id = new_data["_id"]
    for name, index in indexes.items():
        if not index.get("unique"):
            continue
        keys = [key for key, _ in index["key"]]
        wanted = _key_of(new_data, keys)
        if index.get("sparse") and all(value is None for value in wanted):
            continue
        table = _unique_tables.get((id(self._store), name))
        if table is None:
            table = {}
            for document in self._store.documents:
                table.setdefault(_key_of(document, keys), set()).add(document["_id"])
            _unique_tables[(id(self._store), name)] = table
        holders = table.setdefault(wanted, set())
        for other in list(holders):
            if other == new_id:
                continue
            current = _stored(self._store, other)
            if current is None or _key_of(current, keys) != wanted:
                holders.discard(other)
                continue
            raise mongomock.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        holders.add(new_id)
    return None


mongomock.collection.Collection._ensure_uniques = _ensure_uniques


class CommandError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Store:
    """The data and the commands on it. One lock: mongomock is not thread-safe."""

    def __init__(self) -> None:
        self.client = mongomock.MongoClient(tz_aware=True)
        self.lock = threading.Lock()

    def run(self, db_name: str, command: dict) -> dict:
        name = next(iter(command))
        handler = getattr(self, f"cmd_{name.lower()}", None)
        if handler is None:
            return {"ok": 0.0, "errmsg": f"no such command: '{name}'", "code": 59, "codeName": "CommandNotFound"}
        try:
            with self.lock:
                return {**handler(self.client[db_name], command), "ok": 1.0}
        except CommandError as error:
            return {"ok": 0.0, "errmsg": str(error), "code": error.code}
        except mongomock.OperationFailure as error:
            return {"ok": 0.0, "errmsg": str(error), "code": error.code or 2}

    # --- handshake and housekeeping -------------------------------------------------------------

    def cmd_ismaster(self, db: Any, cmd: dict) -> dict:
        return {
            "helloOk": True,
            "ismaster": True,
            "isWritablePrimary": True,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "localTime": dt.datetime.now(dt.UTC),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": next(_ids),
            "minWireVersion": 0,
            "maxWireVersion": MAX_WIRE_VERSION,
            "readOnly": False,
        }

    cmd_hello = cmd_ismaster

    def cmd_ping(self, db: Any, cmd: dict) -> dict:
        return {}

    def cmd_buildinfo(self, db: Any, cmd: dict) -> dict:
        return {"version": "6.0.0-mongomock", "versionArray": [6, 0, 0, 0]}

    def cmd_endsessions(self, db: Any, cmd: dict) -> dict:
        return {}

    def cmd_killcursors(self, db: Any, cmd: dict) -> dict:
        return {"cursorsKilled": cmd.get("cursors", [])}

    def cmd_getmore(self, db: Any, cmd: dict) -> dict:
        return {"cursor": {"id": 0, "ns": f"{db.name}.{cmd['collection']}", "nextBatch": []}}

    def cmd_dropdatabase(self, db: Any, cmd: dict) -> dict:
        self.client.drop_database(db.name)
        return {}

    def cmd_drop(self, db: Any, cmd: dict) -> dict:
        db.drop_collection(cmd["drop"])
        return {}

    def cmd_listcollections(self, db: Any, cmd: dict) -> dict:
        batch = [{"name": name, "type": "collection"} for name in db.list_collection_names()]
        return {"cursor": {"id": 0, "ns": f"{db.name}.$cmd.listCollections", "firstBatch": batch}}

    def cmd_listdatabases(self, db: Any, cmd: dict) -> dict:
        return {"databases": [{"name": name} for name in self.client.list_database_names()]}

    # --- reads ----------------------------------------------------------------------------------

    def cmd_find(self, db: Any, cmd: dict) -> dict:
        cursor = db[cmd["find"]].find(cmd.get("filter") or {}, cmd.get("projection"))
        if cmd.get("sort"):
            cursor = cursor.sort(list(cmd["sort"].items()))
        if cmd.get("skip"):
            cursor = cursor.skip(cmd["skip"])
        if cmd.get("limit"):
            cursor = cursor.limit(abs(cmd["limit"]))
        return {"cursor": {"id": 0, "ns": f"{db.name}.{cmd['find']}", "firstBatch": list(cursor)}}

    def cmd_aggregate(self, db: Any, cmd: dict) -> dict:
        batch = list(db[cmd["aggregate"]].aggregate(cmd["pipeline"]))
        return {"cursor": {"id": 0, "ns": f"{db.name}.{cmd['aggregate']}", "firstBatch": batch}}

    def cmd_count(self, db: Any, cmd: dict) -> dict:
        return {"n": db[cmd["count"]].count_documents(cmd.get("query") or {})}

    def cmd_distinct(self, db: Any, cmd: dict) -> dict:
        return {"values": db[cmd["distinct"]].distinct(cmd["key"], cmd.get("query") or {})}

    def cmd_listindexes(self, db: Any, cmd: dict) -> dict:
        info = db[cmd["listIndexes"]].index_information()
        batch = [{"v": 2, "name": name, "key": dict(spec["key"])} for name, spec in info.items()]
        return {"cursor": {"id": 0, "ns": f"{db.name}.{cmd['listIndexes']}", "firstBatch": batch}}

    # --- writes ---------------------------------------------------------------------------------

    def cmd_createindexes(self, db: Any, cmd: dict) -> dict:
        collection = db[cmd["createIndexes"]]
        for index in cmd["indexes"]:
            options = {k: v for k, v in index.items() if k not in ("key", "v")}
            collection.create_index(list(index["key"].items()), **options)
        return {"numIndexesAfter": len(collection.index_information())}

    def cmd_insert(self, db: Any, cmd: dict) -> dict:
        collection, written, errors = db[cmd["insert"]], 0, []
        for index, document in enumerate(cmd.get("documents", [])):
            try:
                collection.insert_one(document)
                written += 1
            except mongomock.DuplicateKeyError as error:
                errors.append({"index": index, "code": 11000, "errmsg": str(error)})
                if cmd.get("ordered", True):
                    break
        return {"n": written, **({"writeErrors": errors} if errors else {})}

    def cmd_update(self, db: Any, cmd: dict) -> dict:
        collection, matched, modified, upserted, errors = db[cmd["update"]], 0, 0, [], []
        for index, spec in enumerate(cmd.get("updates", [])):
            replacing = not any(key.startswith("$") for key in spec["u"])
            try:
                if replacing:
                    result = collection.replace_one(spec["q"], spec["u"], upsert=spec.get("upsert", False))
                elif spec.get("multi"):
                    result = collection.update_many(
                        spec["q"], spec["u"], upsert=spec.get("upsert", False), array_filters=spec.get("arrayFilters")
                    )
                else:
                    result = collection.update_one(
                        spec["q"], spec["u"], upsert=spec.get("upsert", False), array_filters=spec.get("arrayFilters")
                    )
            except mongomock.DuplicateKeyError as error:
                errors.append({"index": index, "code": 11000, "errmsg": str(error)})
                if cmd.get("ordered", True):
                    break
                continue
            if result.upserted_id is not None:
                upserted.append({"index": index, "_id": result.upserted_id})
                matched += 1
            else:
                matched += result.matched_count
                modified += result.modified_count
        answer: dict = {"n": matched, "nModified": modified}
        if upserted:
            answer["upserted"] = upserted
        if errors:
            answer["writeErrors"] = errors
        return answer

    def cmd_delete(self, db: Any, cmd: dict) -> dict:
        collection, removed = db[cmd["delete"]], 0
        for spec in cmd.get("deletes", []):
            if spec.get("limit", 0) == 1:
                removed += collection.delete_one(spec["q"]).deleted_count
            else:
                removed += collection.delete_many(spec["q"]).deleted_count
        return {"n": removed}

    def cmd_findandmodify(self, db: Any, cmd: dict) -> dict:
        collection = db[cmd["findAndModify"]]
        query, sort = cmd.get("query") or {}, list((cmd.get("sort") or {}).items()) or None
        projection = cmd.get("fields")
        existed = collection.find_one(query, {"_id": 1}, sort=sort) is not None
        try:
            if cmd.get("remove"):
                value = collection.find_one_and_delete(query, projection=projection, sort=sort)
                return {"value": value, "lastErrorObject": {"n": 1 if value else 0}}
            returned = ReturnDocument.AFTER if cmd.get("new") else ReturnDocument.BEFORE
            update, upsert = cmd["update"], cmd.get("upsert", False)
            if any(key.startswith("$") for key in update):
                value = collection.find_one_and_update(
                    query, update, projection=projection, sort=sort, upsert=upsert, return_document=returned
                )
            else:
                value = collection.find_one_and_replace(
                    query, update, projection=projection, sort=sort, upsert=upsert, return_document=returned
                )
        except mongomock.DuplicateKeyError as error:
            raise CommandError(11000, str(error)) from None
        last = {"n": 1 if existed or upsert else 0, "updatedExisting": existed}
        if upsert and not existed and value is not None:
            last["upserted"] = value.get("_id")
        return {"value": value, "lastErrorObject": last}


# --- the wire protocol ------------------------------------------------------------------------


def _cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.index(b"\x00", offset)
    return data[offset:end].decode(), end + 1


def _decode_all(data: bytes) -> list[dict]:
    return bson.decode_all(data, CODEC)


def parse_op_msg(body: bytes) -> dict:
    flags = struct.unpack_from("<I", body, 0)[0]
    end = len(body) - (4 if flags & 1 else 0)
    offset, command, sequences = 4, None, {}
    while offset < end:
        kind = body[offset]
        offset += 1
        if kind == 0:
            size = struct.unpack_from("<i", body, offset)[0]
            command = bson.decode(body[offset : offset + size], CODEC)
            offset += size
        else:
            size = struct.unpack_from("<i", body, offset)[0]
            identifier, start = _cstring(body, offset + 4)
            sequences[identifier] = _decode_all(body[start : offset + size])
            offset += size
    assert command is not None
    command.update(sequences)
    return command


def op_msg(response_to: int, document: dict) -> bytes:
    payload = struct.pack("<I", 0) + b"\x00" + bson.encode(document, codec_options=CODEC)
    return struct.pack("<iiii", 16 + len(payload), next(_ids), response_to, OP_MSG) + payload


def op_reply(response_to: int, document: dict) -> bytes:
    payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(document, codec_options=CODEC)
    return struct.pack("<iiii", 16 + len(payload), next(_ids), response_to, OP_REPLY) + payload


class Handler(socketserver.BaseRequestHandler):
    store: Store

    def _read(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self.request.recv(left)
            if not chunk:
                raise ConnectionError("closed")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def handle(self) -> None:
        try:
            while True:
                length, request_id, _, opcode = struct.unpack("<iiii", self._read(16))
                body = self._read(length - 16)
                if opcode == OP_MSG:
                    command = parse_op_msg(body)
                    db_name = command.pop("$db", "admin")
                    for key in ("lsid", "$readPreference", "$clusterTime", "txnNumber", "autocommit"):
                        command.pop(key, None)
                    self.request.sendall(op_msg(request_id, self.store.run(db_name, command)))
                elif opcode == OP_QUERY:
                    collection, offset = _cstring(body, 4)
                    offset += 8
                    size = struct.unpack_from("<i", body, offset)[0]
                    command = bson.decode(body[offset : offset + size], CODEC)
                    db_name = collection.split(".", 1)[0]
                    self.request.sendall(op_reply(request_id, self.store.run(db_name, command)))
                else:
                    log.warning("unsupported opcode %s", opcode)
                    return
        except (ConnectionError, OSError):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(host: str, port: int) -> Server:
    Handler.store = Store()
    return Server((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27017)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    server = serve(args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"MongoDB stand-in (mongomock) on {args.host}:{args.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
