"""DynamoDB TTL, which moto never applies: a sweeper deletes expired items.

Every ``interval`` seconds the sweeper scans each table with TTL enabled (the deployer
enables it through the API from the template's ``TimeToLiveSpecification``) for items whose
TTL attribute is a number of epoch seconds before *now*, and deletes them (conditionally,
so an item updated meanwhile survives). Like AWS, items whose TTL is more than five years
in the past are left alone. *Now* is the runtime's clock: ``Clock.advance`` (``--clock``)
moves a scenario forward in time.

A sweep is a full scan, and moto scans slowly (about 0.4 ms an item: 2 s for a table of 4,500
items, while every other request to DynamoDB waits). So the sweeper waits at least
``COST_FACTOR`` times as long as the scans of its last sweep took before the next sweep: on
a big table it sweeps every few seconds instead of keeping moto busy, on a small one every
``interval``. AWS deletes expired items within days: both are well within its promise.

The keys it deletes are remembered in a ``TtlLedger``; the DynamoDB Streams poller claims
them when it delivers the REMOVE records, and marks those records with the TTL service's
``userIdentity`` (moto's records never carry one).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .cloud import Cloud
from .pollers.base import PollerThread
from .pollers.dynamodb_streams import lambda_attribute_values

__all__ = ["TtlLedger", "TtlSweeper"]

_FIVE_YEARS = 5 * 365 * 24 * 3600
COST_FACTOR = 4.0  # wait at least this many times the last sweep's duration


class TtlLedger:
    """Keys deleted by the sweeper and not yet seen in a stream record (thread-safe)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._keys: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    @staticmethod
    def _key(table: str, keys: Mapping[str, Any]) -> tuple[str, str]:
        return table, json.dumps(lambda_attribute_values(keys), sort_keys=True)

    def remember(self, table: str, keys: Mapping[str, Any]) -> None:
        with self._lock:
            self._keys[self._key(table, keys)] = None
            while len(self._keys) > self.limit:
                self._keys.popitem(last=False)

    def forget(self, table: str, keys: Mapping[str, Any]) -> None:
        with self._lock:
            self._keys.pop(self._key(table, keys), None)

    def claim(self, table: str, keys: Mapping[str, Any]) -> bool:
        """True (once) if the sweeper deleted ``keys`` from ``table``."""
        with self._lock:
            key = self._key(table, keys)
            if key in self._keys:
                del self._keys[key]
                return True
            return False


class TtlSweeper(PollerThread):
    """Deletes expired items of ``tables`` (``[{"table": name, "attribute": attr}]``)."""

    name = "ttl-sweeper"

    def __init__(
        self,
        cloud: Cloud,
        tables: Iterable[Mapping[str, Any]],
        ledger: TtlLedger,
        clock: Callable[[], float],
        *,
        interval: float = 1.0,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        super().__init__()
        self.cloud = cloud
        self.tables = [(str(t["table"]), str(t["attribute"])) for t in tables]
        self.ledger = ledger
        self.clock = clock
        self.interval = interval
        self.say = say
        self.deleted = 0
        self._deleting = 0.0  # seconds the current sweep spent deleting (not scanning)
        self._key_names: dict[str, list[str]] = {}

    def run(self) -> None:
        self.ready.set()
        while not self.stopping.is_set():
            started, self._deleting = time.monotonic(), 0.0
            self.sweep()
            scanning = time.monotonic() - started - self._deleting
            self.stopping.wait(max(self.interval, COST_FACTOR * scanning))

    def sweep(self) -> int:
        """One pass over every table; returns how many items it deleted."""
        count = 0
        for table, attribute in self.tables:
            try:
                count += self._sweep(table, attribute)
            except Exception as err:  # a missing table must not stop the others
                self.say(f"ttl {table}: {err}")
        self.deleted += count
        return count

    def _sweep(self, table: str, attribute: str) -> int:
        # Compared here, not in a FilterExpression: moto answers HTTP 500 when a `<` meets an
        # item whose attribute has another type (AWS just does not match it).
        dynamodb = self.cloud.client("dynamodb")
        key_names = self._keys_of(table)
        now = self.clock()
        names = {"#ttl": attribute, **{f"#k{i}": k for i, k in enumerate(key_names)}}
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="attribute_exists(#ttl)",
            ProjectionExpression=", ".join(["#ttl", *(f"#k{i}" for i in range(len(key_names)))]),
            ExpressionAttributeNames=names,
        )
        deleted = 0
        for page in pages:
            for item in page.get("Items", []):
                expires = _epoch_seconds(item.get(attribute))
                if expires is None or not now - _FIVE_YEARS < expires < now:
                    continue
                keys = {k: item[k] for k in key_names}
                self.ledger.remember(table, keys)
                deleting = time.monotonic()
                try:
                    dynamodb.delete_item(
                        TableName=table,
                        Key=keys,
                        ConditionExpression="#ttl = :seen",  # not updated meanwhile
                        ExpressionAttributeNames={"#ttl": attribute},
                        ExpressionAttributeValues={":seen": item[attribute]},
                    )
                except dynamodb.exceptions.ConditionalCheckFailedException:
                    self.ledger.forget(table, keys)
                    continue
                finally:
                    self._deleting += time.monotonic() - deleting
                deleted += 1
        if deleted:
            self.say(f"ttl {table}: {deleted} expired item(s) deleted")
        return deleted

    def _keys_of(self, table: str) -> list[str]:
        if table not in self._key_names:
            schema = self.cloud.client("dynamodb").describe_table(TableName=table)["Table"]
            self._key_names[table] = [k["AttributeName"] for k in schema["KeySchema"]]
        return self._key_names[table]


def _epoch_seconds(value: Mapping[str, Any] | None) -> float | None:
    """The TTL of an item: only a Number attribute counts, as on AWS."""
    if not value or "N" not in value:
        return None
    try:
        return float(value["N"])
    except ValueError:
        return None
