"""S3 connector: objects of one bucket, with retries, paging and bounded concurrent puts.

* ``put_object``/``get_object``/``delete_object``/``copy_object`` make one request each;
  transient errors (SlowDown, 5xx, timeouts) are retried with jittered backoff, then raised
  as ``RetryableError``; others (NoSuchKey, AccessDenied ...) are raised at once;
* ``list_objects`` follows ``ListObjectsV2`` continuation tokens through every page, one
  request per page, as the iterator is consumed;
* ``put_objects`` runs many puts, at most ``max_in_flight`` at a time, and returns the
  items that failed as ``FailedEntry`` values instead of raising.

>>> bucket = S3Connector("event-lake")                  # client created on first call
>>> bucket.put_json("orders/1.json", {"id": "1"})       # doctest: +SKIP
>>> bucket.get_json("orders/1.json")                    # doctest: +SKIP
{'id': '1'}
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..errors import RetryableError
from ..utils.concurrency import DEFAULT_MAX_IN_FLIGHT, map_bounded
from ..utils.json import dumps
from ._batch import FailedEntry
from ._client import LazyClient
from ._retry import Caller, RetryPolicy, is_retryable

__all__ = ["FailedEntry", "S3Connector"]


class S3Connector:
    """Reads and writes the objects of ``bucket``.

    ``client`` defaults to the process-wide ``s3`` client (created on first use); ``retry``
    sets the retry of transient errors; ``max_in_flight`` bounds concurrent puts in
    ``put_objects``. ``calls`` counts the S3 requests made by this connector.
    """

    client = LazyClient("s3")

    def __init__(
        self,
        bucket: str,
        *,
        client: Any = None,
        config: Any = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        self.bucket = bucket
        self.max_in_flight = max_in_flight
        self._client = client
        self._config = config
        self._caller = Caller(retry or RetryPolicy())

    @property
    def calls(self) -> int:
        """S3 requests made so far (retries included)."""
        return self._caller.calls

    def put_object(self, key: str, body: bytes | str, **kwargs: Any) -> dict[str, Any]:
        """PutObject; ``kwargs`` are PutObject's (ContentType, Metadata ...). Returns the
        response without its metadata (ETag, VersionId ...)."""
        response = self._caller(
            self.client.put_object, Bucket=self.bucket, Key=key, Body=body, **kwargs
        )
        return _without_metadata(response)

    def put_json(self, key: str, value: Any, **kwargs: Any) -> dict[str, Any]:
        """PutObject of ``value`` as compact JSON (``ContentType: application/json``)."""
        kwargs.setdefault("ContentType", "application/json")
        return self.put_object(key, dumps(value).encode("utf-8"), **kwargs)

    def get_object(self, key: str, **kwargs: Any) -> bytes:
        """The body of ``key``; a missing key raises botocore's ``NoSuchKey`` error."""

        def get_object() -> bytes:  # the read is retried with the request
            response = self.client.get_object(Bucket=self.bucket, Key=key, **kwargs)
            return response["Body"].read()

        return self._caller(get_object)

    def get_json(self, key: str, **kwargs: Any) -> Any:
        """The body of ``key`` parsed as JSON."""
        return json.loads(self.get_object(key, **kwargs))

    def delete_object(self, key: str, **kwargs: Any) -> None:
        """DeleteObject (deleting a missing key succeeds, as in S3)."""
        self._caller(self.client.delete_object, Bucket=self.bucket, Key=key, **kwargs)

    def copy_object(
        self, source_key: str, key: str, source_bucket: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """CopyObject from ``source_bucket`` (default: this bucket) ``source_key`` to ``key``."""
        source = {"Bucket": source_bucket or self.bucket, "Key": source_key}
        response = self._caller(
            self.client.copy_object, Bucket=self.bucket, Key=key, CopySource=source, **kwargs
        )
        return _without_metadata(response)

    def list_objects(self, prefix: str = "", **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every object under ``prefix`` (``Key``, ``Size``, ``LastModified``, ``ETag`` ...),
        across all pages; ``kwargs`` are ListObjectsV2's (``MaxKeys`` sets the page size)."""
        params = {"Bucket": self.bucket, "Prefix": prefix, **kwargs}
        while True:
            page = self._caller(self.client.list_objects_v2, **params)
            yield from page.get("Contents", ())
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def put_objects(self, items: Sequence[Mapping[str, Any]]) -> list[FailedEntry]:
        """Put every item (``{"Key": ..., "Body": ..., **PutObject kwargs}``), at most
        ``max_in_flight`` at a time; return the items that failed, ordered by index."""

        def put(position: int) -> FailedEntry | None:
            item = items[position]
            try:
                self.put_object(item["Key"], item["Body"], **_rest(item))
            except Exception as err:
                return _failed(position, item, err)
            return None

        results = map_bounded(put, range(len(items)), self.max_in_flight)
        return [failure for failure in results if failure is not None]


def _rest(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in ("Key", "Body")}


def _without_metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in response.items() if name != "ResponseMetadata"}


def _failed(position: int, item: Any, err: BaseException) -> FailedEntry:
    retryable = isinstance(err, RetryableError)
    cause = err.__cause__ if retryable and err.__cause__ is not None else err
    response = getattr(cause, "response", None) or {}
    code = response.get("Error", {}).get("Code") or type(cause).__name__
    return FailedEntry(position, item, code, str(cause), retryable or is_retryable(cause))
