"""Request overheads of moto_server that a busy local system pays on every call, removed.

``moto_entry.main`` applies these in the server process after its fixes (``apply()``), in
memory; moto's files are never edited. None changes what a request answers. Measured with a
sampling profiler on the server during 1,000 orders through the five reference services
(services/tests/integration/test_no_loss.py, 2 cores): the test took 402 s without them and
163 s with them.

* ``list_of_moto_modules``: moto's dispatcher lists moto's package folder on disk (a
  ``listdir`` and a ``stat`` per service) for every request, under the dispatcher's one
  lock, so every request waits for the listing of the others. The folder does not change
  while the server runs: listed once.
* werkzeug's request log: a line per request to the server's log, under the logging lock;
  about a sixth of the server's busy samples. Only warnings and errors are logged.
* EventBridge ``PutEvents``: moto compiles the JSONPath expressions of a target's input
  (a parser built with ply's yacc) for every event and every matching rule, about 6 ms
  each. Compiled expressions are kept (``jsonpath_ng.ext.parse`` is pure).
* DynamoDB ``Query`` on a table's own key: moto sorts every item of the table and then
  keeps those of the partition asked for (26 ms at 4,500 items, for the one to three items
  control's evaluate wants); it now reads the partition's items alone.
* DynamoDB ``Query`` on an index: moto sorts every item of the table by the table's key,
  keeps those of the index key asked for, then sorts those by the index's keys and the
  table's key, which is a total order: the first sort changes nothing and is skipped. The
  query still goes through every item (moto keeps no index).
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

__all__ = ["SPEEDUPS", "apply"]

SPEEDUPS = (
    "dispatch-modules",
    "request-log",
    "events-jsonpath",
    "dynamodb-query",
    "dynamodb-index-query",
)

_applied: list[str] = []
_lock = threading.Lock()


def apply() -> list[str]:
    """Patch moto in this process (idempotent); returns the names of the speedups."""
    with _lock:
        if not _applied:
            _cache_module_list()
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            _cache_jsonpath()
            _query_by_partition()
            _applied.extend(SPEEDUPS)
        return list(_applied)


def _cache_module_list() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def _cache_jsonpath() -> None:
    # moto.events.utils imports ``parse`` from the module at each call, so the module's
    # attribute is what it gets.
    import jsonpath_ng.ext

    parse = jsonpath_ng.ext.parse
    if not hasattr(parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(parse)


_partition = threading.local()  # .key: (table, hash key or _INDEX) of the query being served
_INDEX = object()


def _query_by_partition() -> None:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items

    @functools.wraps(query)
    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None:
            _partition.key = (self, _INDEX)
        else:
            _partition.key = None if hash_key is None else (self, hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _partition.key = None

    @functools.wraps(all_items)
    def items_of_partition(self: Table) -> Any:
        key = getattr(_partition, "key", None)
        if key is None or key[0] is not self:
            return all_items(self)
        if key[1] is _INDEX:  # every item, unsorted: the query sorts what it keeps
            if not self.range_key_attr:
                return list(self.items.values())
            return [item for partition in self.items.values() for item in partition.values()]
        # What all_items returns, for one partition: moto's query keeps only these anyway.
        found = self.items.get(key[1])
        if found is None:
            return []
        items = list(found.values()) if self.range_key_attr else [found]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    Table.query = partition_query  # type: ignore[method-assign]
    Table.all_items = items_of_partition  # type: ignore[method-assign]
