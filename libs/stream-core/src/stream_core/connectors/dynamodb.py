"""DynamoDB connector: one table through the low-level client, Python values in and out.

Requests take the resource-style shapes the seed's rules build: ``Key``, ``Item``,
``ExclusiveStartKey`` and ``ExpressionAttributeValues`` hold Python values (floats are sent
as the ``Decimal`` of their shortest text), and items come back as Python values with
``numbers="native"`` (int/float, the default) or ``"decimal"``. ``TableName`` defaults to the
connector's table.

* ``update`` returns the new attributes; a failed ``ConditionExpression`` returns ``{}`` (an
  older, out-of-order event is a no-op; a rule's ``to_fallback_update_request`` may follow);
* ``batch_get`` asks at most 100 keys per request, concurrently, retries ``UnprocessedKeys``
  and skips keys already in the caller's per-invocation ``cache``;
* ``query``/``scan`` follow ``LastEvaluatedKey``; ``query_page``/``scan_page`` return one page
  and the cursor of the next;
* ``batch_write`` sends at most 25 puts/deletes per request (400 KB per item, 16 MB per
  request), retries ``UnprocessedItems`` and transient errors, and returns what still failed.

>>> table = DynamoDBConnector("orders")                 # client created on first call
>>> table.update({"Key": {"pk": "1", "sk": "ORDER"},
...               **update_expression({"status": "paid"})})     # doctest: +SKIP
{'pk': '1', 'sk': 'ORDER', 'status': 'paid'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, NamedTuple

from ..errors import ConfigurationError, RetryableError
from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT, map_bounded
from ._batch import BatchWriter, EntryFailure, FailedEntry
from ._client import LazyClient
from ._dynamodb_items import (
    identity as key_identity,
)
from ._dynamodb_items import (
    item_size,
    serializer,
    unprocessed_positions,
    write_request_size,
)
from ._retry import RETRYABLE_CODES, Caller, RetryPolicy

__all__ = [
    "MAX_GET_KEYS",
    "MAX_ITEM_BYTES",
    "MAX_WRITE_BYTES",
    "MAX_WRITE_ITEMS",
    "DynamoDBConnector",
    "FailedEntry",
    "Page",
    "item_size",
]

MAX_GET_KEYS = 100
MAX_WRITE_ITEMS = 25
MAX_ITEM_BYTES = 400 * 1024
MAX_WRITE_BYTES = 16 * 1024 * 1024
#: Code of the entries a BatchWriteItem response hands back in ``UnprocessedItems``.
UNPROCESSED = "UnprocessedItems"

_IMAGE_FIELDS = ("Key", "Item", "ExclusiveStartKey", "ExpressionAttributeValues")
_CONDITION_FAILED = "ConditionalCheckFailedException"

Numbers = Literal["native", "decimal"]


class Page(NamedTuple):
    """One page of a query or scan: its items and the cursor of the next page (or None)."""

    items: list[dict[str, Any]]
    cursor: dict[str, Any] | None


class DynamoDBConnector:
    """Reads and writes one DynamoDB table.

    ``client`` defaults to the process-wide ``dynamodb`` client (created on first use);
    ``retry`` sets the retry of transient errors and unprocessed keys/items;
    ``max_in_flight`` bounds concurrent requests. ``calls`` counts the requests made.
    """

    client = LazyClient("dynamodb")

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        numbers: Numbers = "native",
    ) -> None:
        if numbers not in ("native", "decimal"):
            raise ConfigurationError(f"numbers must be 'native' or 'decimal', not {numbers!r}")
        self.table_name = table_name
        self.numbers = numbers
        self.retry = retry or RetryPolicy()
        self.max_in_flight = max_in_flight
        self._client = client
        self._config = config
        self._caller = Caller(self.retry)
        self._writer = BatchWriter(
            self._send_writes,
            max_entries=MAX_WRITE_ITEMS,
            max_bytes=MAX_WRITE_BYTES,
            max_entry_bytes=MAX_ITEM_BYTES,
            size_of=write_request_size,
            retry=self.retry,
            max_in_flight=max_in_flight,
            retryable_codes=RETRYABLE_CODES | {UNPROCESSED},
        )
        self._codec: tuple[Callable[[Any], Any], Callable[[Any], Any]] | None = None

    @property
    def calls(self) -> int:
        """DynamoDB requests made so far (retries included)."""
        return self._caller.calls + self._writer.calls

    # -- single items ------------------------------------------------------------------

    def update(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateItem; the item's new attributes, or ``{}`` if the condition failed."""
        params = self._wire(request)
        params.setdefault("ReturnValues", "ALL_NEW")
        try:
            response = self._caller(self.client.update_item, **params)
        except Exception as err:
            if _error_code(err) == _CONDITION_FAILED:
                return {}
            raise
        return self._image_out(response.get("Attributes") or {})

    def put(self, item: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """PutItem; the old attributes when ``ReturnValues="ALL_OLD"``, else ``{}``.

        A failed ``ConditionExpression`` raises botocore's ``ClientError``.
        """
        response = self._caller(self.client.put_item, **self._wire({**kwargs, "Item": item}))
        return self._image_out(response.get("Attributes") or {})

    def get(self, key: Mapping[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        """GetItem; the item or None. ``kwargs``: ConsistentRead, ProjectionExpression ..."""
        response = self._caller(self.client.get_item, **self._wire({**kwargs, "Key": key}))
        item = response.get("Item")
        return None if item is None else self._image_out(item)

    # -- many items --------------------------------------------------------------------

    def batch_get(
        self,
        keys: Iterable[Mapping[str, Any]],
        *,
        cache: dict[Any, Any] | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """The items of ``keys`` that exist, one per distinct key, in the order of ``keys``.

        ``cache`` is a dict the caller owns for one invocation: keys found there (present or
        missing) are not fetched again, and fetched keys are added to it. ``kwargs`` apply
        to every key (ConsistentRead; a ProjectionExpression must keep the key attributes).
        Unprocessed keys are retried with backoff; keys still unprocessed after the policy's
        attempts raise ``RetryableError``.
        """
        store: dict[Any, Any] = {} if cache is None else cache
        order: dict[Any, None] = {}
        wanted: dict[Any, dict[str, Any]] = {}
        for key in keys:
            wire = self._image_in(key)
            identity = key_identity(self.table_name, wire)
            order[identity] = None
            if identity not in store:
                wanted[identity] = wire
        if wanted:
            pending = list(wanted.items())
            chunks = [pending[i : i + MAX_GET_KEYS] for i in range(0, len(pending), MAX_GET_KEYS)]
            options = self._wire(kwargs, table=False)
            for found in map_bounded(
                lambda chunk: self._get_chunk(chunk, options), chunks, self.max_in_flight
            ):
                store.update(found)
        return [store[identity] for identity in order if store[identity] is not None]

    def query(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Query, following ``LastEvaluatedKey`` through all pages."""
        return self._all_pages(self.query_page, request)

    def query_page(self, request: Mapping[str, Any], cursor: Any = None) -> Page:
        """One page of a Query starting at ``cursor`` (None: the first page)."""
        return self._page(self.client.query, request, cursor)

    def scan(self, request: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Scan, following ``LastEvaluatedKey`` through all pages."""
        return self._all_pages(self.scan_page, request or {})

    def scan_page(self, request: Mapping[str, Any] | None = None, cursor: Any = None) -> Page:
        """One page of a Scan starting at ``cursor`` (None: the first page)."""
        return self._page(self.client.scan, request or {}, cursor)

    def batch_write(
        self,
        puts: Sequence[Mapping[str, Any]] = (),
        deletes: Sequence[Mapping[str, Any]] = (),
    ) -> list[FailedEntry]:
        """Put ``puts`` and delete the keys ``deletes``; return what still failed.

        A ``FailedEntry.index`` is a position in ``[*puts, *deletes]`` and its ``entry`` the
        item or key given. An item that cannot be marshalled or is over 400 KB fails alone,
        without a call. Keys must be distinct within one call (DynamoDB rejects duplicates).
        """
        originals = [*puts, *deletes]
        failed: list[FailedEntry] = []
        requests: list[dict[str, Any]] = []
        positions: list[int] = []
        for index, value in enumerate(originals):
            try:
                wire = self._image_in(value)
            except (TypeError, ValueError, ArithmeticError) as err:
                failed.append(FailedEntry(index, value, "SerializationError", str(err), False))
                continue
            is_put = index < len(puts)
            requests.append(
                {"PutRequest": {"Item": wire}} if is_put else {"DeleteRequest": {"Key": wire}}
            )
            positions.append(index)
        for failure in self._writer.write(requests):
            index = positions[failure.index]
            failed.append(replace(failure, index=index, entry=originals[index]))
        failed.sort(key=lambda f: f.index)
        return failed

    # -- helpers -----------------------------------------------------------------------

    def _codecs(self) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        if self._codec is None:
            from ..events.dynamodb import ImageDeserializer

            self._codec = (serializer().serialize, ImageDeserializer(self.numbers).deserialize)
        return self._codec

    def _image_in(self, image: Mapping[str, Any]) -> dict[str, Any]:
        serialize = self._codecs()[0]
        return {name: serialize(value) for name, value in image.items()}

    def _image_out(self, image: Mapping[str, Any]) -> dict[str, Any]:
        deserialize = self._codecs()[1]
        return {name: deserialize(value) for name, value in image.items()}

    def _wire(self, request: Mapping[str, Any], *, table: bool = True) -> dict[str, Any]:
        params: dict[str, Any] = {"TableName": self.table_name} if table else {}
        for name, value in request.items():
            params[name] = self._image_in(value) if name in _IMAGE_FIELDS and value else value
        return params

    def _page(self, operation: Any, request: Mapping[str, Any], cursor: Any) -> Page:
        if cursor:
            request = {**request, "ExclusiveStartKey": cursor}
        response = self._caller(operation, **self._wire(request))
        last = response.get("LastEvaluatedKey")
        return Page(
            [self._image_out(item) for item in response.get("Items", ())],
            self._image_out(last) if last else None,
        )

    @staticmethod
    def _all_pages(
        page_of: Callable[..., Page], request: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = page_of(request, cursor)
            items.extend(page.items)
            cursor = page.cursor
            if cursor is None:
                return items

    def _get_chunk(
        self, chunk: list[tuple[Any, dict[str, Any]]], options: dict[str, Any]
    ) -> dict[Any, Any]:
        found: dict[Any, Any] = dict.fromkeys((identity for identity, _ in chunk), None)
        key_names = list(chunk[0][1])
        keys = [wire for _, wire in chunk]
        attempts = self.retry.max_attempts
        for attempt in range(attempts):
            if attempt:
                self.retry.backoff(attempt - 1)
            response = self._caller(
                self.client.batch_get_item,
                RequestItems={self.table_name: {**options, "Keys": keys}},
            )
            for item in response.get("Responses", {}).get(self.table_name, ()):
                identity = key_identity(self.table_name, {name: item[name] for name in key_names})
                found[identity] = self._image_out(item)
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
            keys = unprocessed.get("Keys", []) if unprocessed else []
            if not keys:
                return found
        raise RetryableError(
            f"BatchGetItem on {self.table_name}: {len(keys)} keys still unprocessed after "
            f"{attempts} attempts"
        )

    def _send_writes(self, requests: list[dict[str, Any]]) -> list[EntryFailure]:
        response = self.client.batch_write_item(RequestItems={self.table_name: requests})
        unprocessed = (response.get("UnprocessedItems") or {}).get(self.table_name)
        if not unprocessed:
            return []
        message = "left unprocessed by BatchWriteItem (throughput or size limits)"
        positions = unprocessed_positions(requests, unprocessed)
        return [(position, UNPROCESSED, message) for position in positions]


def _error_code(err: BaseException) -> str | None:
    response = getattr(err, "response", None) or {}
    return response.get("Error", {}).get("Code")
