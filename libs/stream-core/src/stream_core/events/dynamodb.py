"""DynamoDB Streams trigger -> UOWs, and a record builder for tests.

Each stream record becomes one change event:

- ``id``: the record's ``eventID``;
- ``type``: ``f"{prefix}-{suffix}"``, the prefix being ``event_type_prefix`` when given, else
  the image's ``discriminator`` attribute, else its ``sk`` attribute; the suffix ``created``,
  ``updated`` or ``deleted`` for ``INSERT``, ``MODIFY`` or ``REMOVE``, except for soft
  deletes (below);
- ``timestamp``: the image's ``timestamp`` attribute (new image first), else
  ``ApproximateCreationDateTime`` in ms;
- ``partition_key``: the text of the ``pk`` key; ``tags``: ``{"region": awsRegion}``;
- ``raw``: ``{"new": new image or None, "old": old image or None}``, unmarshalled;
- ``ttl_expired``: ``True``, only on a ``REMOVE`` made by DynamoDB's TTL (below).

Event-stream hygiene:

- **Global-table replicas** (``replicas="drop"``, the default): a record whose image (new,
  else old) carries ``aws:rep:updateregion`` (global tables 2017.11.29) or ``awsregion``
  (aws-lambda-stream's convention: the writer stamps its region) naming another region
  than this one is left out: it is a write made in that region and replicated here, and
  that region's trigger publishes it. This region is ``region=``, else ``AWS_REGION``
  (read when ``from_dynamodb`` is called), else the record's ``awsRegion``.
  ``replicas="keep"`` keeps every record. Dropped records yield no UOW (they are not
  failures: they do not appear in faults or in the partial batch response).
- **Soft deletes** (``soft_delete="deleted"``, the attribute name; ``None`` turns it off): a
  ``MODIFY`` whose new image has a truthy ``deleted`` and whose old image has not is
  ``<prefix>-deleted``; truthy to falsy is ``<prefix>-undeleted``. Without an old image
  (stream view ``NEW_IMAGE``) a truthy ``deleted`` gives ``<prefix>-deleted``.
- **TTL deletions**: a ``REMOVE`` whose ``userIdentity`` is ``{"type": "Service",
  "principalId": "dynamodb.amazonaws.com"}`` (``TTL_USER_IDENTITY``) was made by DynamoDB's
  time-to-live; its event is still ``<prefix>-deleted`` and carries ``"ttl_expired": True``
  (select it with the dict filter ``{"ttl_expired": True}``). No other event has the key.

Images are unmarshalled by ``ImageDeserializer``, a subclass of boto3's ``TypeDeserializer``
(boto3 itself is never patched): ``numbers="native"`` gives ``int`` for integral numbers and
``float`` otherwise, ``numbers="decimal"`` keeps boto3's ``Decimal``. A record without
``dynamodb``/``Keys``/images, with an unknown ``eventName`` or an image that cannot be
unmarshalled yields a malformed UOW (a fault with the raw record), never an exception.

>>> event = to_dynamodb_records([
...     {"keys": {"pk": "1", "sk": "thing"}, "newImage": {"pk": "1", "sk": "thing", "n": 2}}
... ])
>>> [(uow["event"]["type"], uow["event"]["raw"]["new"]["n"]) for uow in from_dynamodb(event)]
[('thing-created', 2)]
"""

from __future__ import annotations

import os
from base64 import b64decode, b64encode
from collections.abc import Iterable, Mapping
from decimal import Decimal
from reprlib import repr as short_repr
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer, TypeSerializer

from ..errors import ConfigurationError
from ..types import Event, Uow
from ._base import malformed, records_of, sort_uows

__all__ = ["TTL_USER_IDENTITY", "ImageDeserializer", "from_dynamodb", "to_dynamodb_records"]

Numbers = Literal["native", "decimal"]
Replicas = Literal["drop", "keep"]

#: The ``userIdentity`` of a stream record for an item deleted by DynamoDB's TTL.
TTL_USER_IDENTITY: Mapping[str, str] = MappingProxyType(
    {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
)
#: Image attributes naming the region where the item was written (global tables).
_REPLICA_REGION_ATTRIBUTES = ("aws:rep:updateregion", "awsregion")

STREAM_ARN = (
    "arn:aws:dynamodb:us-west-2:123456789012:table/test-table/stream/2019-01-31T20:37:02.123"
)
CREATED = 1548967022  # epoch seconds

# eventName -> type suffix. Soft deletes (deleted/undeleted) are decided in _event_of.
_SUFFIXES: Mapping[str, str] = MappingProxyType(
    {"INSERT": "created", "MODIFY": "updated", "REMOVE": "deleted"}
)
_TAGS = ("NULL", "BOOL", "N", "S", "B", "NS", "SS", "BS", "L", "M")


def from_dynamodb(
    event: Mapping[str, Any],
    *,
    pk: str = "pk",
    sk: str | None = "sk",
    discriminator: str | None = "discriminator",
    event_type_prefix: str | None = None,
    numbers: Numbers = "native",
    replicas: Replicas = "drop",
    region: str | None = None,
    soft_delete: str | None = "deleted",
) -> list[Uow]:
    """Decode a DynamoDB Streams trigger event into UOWs ordered by event timestamp.

    ``pk`` names the key attribute that becomes ``partition_key``; ``discriminator`` and
    ``sk`` name the image attributes that prefix the event type, unless
    ``event_type_prefix`` is given. ``numbers`` is ``"native"`` (int/float) or ``"decimal"``.
    ``replicas`` (``"drop"``/``"keep"``), ``region`` and ``soft_delete`` are described in
    the module's docstring.
    """
    if replicas not in ("drop", "keep"):
        raise ConfigurationError(f"replicas must be 'drop' or 'keep', not {replicas!r}")
    settings = _Settings(
        ImageDeserializer(numbers).image,
        pk,
        sk,
        discriminator,
        event_type_prefix,
        replicas == "drop",
        region or os.environ.get("AWS_REGION") or None,
        soft_delete or None,
    )
    uows: list[Uow] = []
    append = uows.append
    for record in records_of(event, "dynamodb"):
        try:
            change = _event_of(record, settings)
        except _Malformed as err:
            append(malformed(record, str(err), err.__cause__))
            continue
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            append(malformed(record, f"dynamodb record cannot be decoded: {err!r}", err))
            continue
        if change is not None:  # None: a replica record, not this region's write
            append({"record": record, "event": change})
    return sort_uows(uows)


class _Settings(NamedTuple):
    image_of: Any
    pk: str
    sk: str | None
    discriminator: str | None
    event_type_prefix: str | None
    drop_replicas: bool
    region: str | None
    soft_delete: str | None


class _Malformed(ValueError):
    """A record that cannot become an event; the message is the fault's reason."""


def _event_of(record: Mapping[str, Any], settings: _Settings) -> Event | None:
    pk = settings.pk
    sk = settings.sk
    discriminator = settings.discriminator
    event_type_prefix = settings.event_type_prefix
    change = record.get("dynamodb")
    if type(change) is not dict:
        raise _Malformed("dynamodb record has no 'dynamodb' object")
    event_name = record.get("eventName")
    suffix = _SUFFIXES.get(event_name)  # type: ignore[arg-type]
    if suffix is None:
        raise _Malformed(f"dynamodb record has an unknown eventName {event_name!r}")
    event_id = record.get("eventID")
    if event_id is None:
        raise _Malformed("dynamodb record has no eventID")
    keys = change.get("Keys")
    key = keys.get(pk) if type(keys) is dict else None
    if type(key) is not dict or len(key) != 1:
        raise _Malformed(f"dynamodb record has no key {pk!r} in 'Keys' (see from_dynamodb pk=)")
    new_image = change.get("NewImage")
    old_image = change.get("OldImage")
    if not new_image and not old_image:
        raise _Malformed(
            "dynamodb record has no NewImage or OldImage (the stream view type must be "
            "NEW_AND_OLD_IMAGES, NEW_IMAGE or OLD_IMAGE)"
        )
    if settings.drop_replicas and _is_replica(
        new_image or old_image, settings.region or record.get("awsRegion")
    ):
        return None
    image_of = settings.image_of
    try:
        new = image_of(new_image) if new_image else None
        old = image_of(old_image) if old_image else None
    except (TypeError, ValueError, AttributeError, ArithmeticError) as err:
        raise _Malformed(f"dynamodb image cannot be unmarshalled: {err}") from err
    image = new or old
    if event_type_prefix is None:
        prefix = image.get(discriminator) if discriminator else None  # type: ignore[union-attr]
        if not prefix or type(prefix) is not str:
            prefix = image.get(sk) if sk else None  # type: ignore[union-attr]
            if not prefix or type(prefix) is not str:
                raise _Malformed(
                    f"dynamodb image has no {discriminator!r} or {sk!r} string to name the "
                    "event type (see from_dynamodb event_type_prefix=)"
                )
    else:
        prefix = event_type_prefix
    timestamp = new.get("timestamp") if new else None
    if timestamp is None and old:
        timestamp = old.get("timestamp")
    if timestamp is None:
        created = change.get("ApproximateCreationDateTime")
        timestamp = None if created is None else int(float(created) * 1000)
    elif isinstance(timestamp, (Decimal, float)):  # numbers="decimal", or a fraction of ms
        timestamp = int(timestamp)
    if event_name == "MODIFY" and settings.soft_delete is not None and new is not None:
        suffix = _soft_delete_suffix(new, old, settings.soft_delete)
    [key_value] = key.values()
    result: Event = {
        "id": event_id,
        "type": f"{prefix}-{suffix}",
        "timestamp": timestamp,
        "partition_key": str(key_value),
        "tags": {"region": record.get("awsRegion")},
        "raw": {"new": new, "old": old},
    }
    if event_name == "REMOVE" and _is_ttl(record.get("userIdentity")):
        result["ttl_expired"] = True
    return result


def _is_replica(image: Any, here: str | None) -> bool:
    """Whether the (marshalled) ``image`` was written in another region than ``here``."""
    if here is None or type(image) is not dict:
        return False
    for name in _REPLICA_REGION_ATTRIBUTES:
        value = image.get(name)
        if type(value) is dict:
            written_in = value.get("S")
            if type(written_in) is str and written_in:
                return written_in != here
    return False


def _soft_delete_suffix(new: Mapping[str, Any], old: Mapping[str, Any] | None, flag: str) -> str:
    was = bool(old.get(flag)) if old is not None else False
    now = bool(new.get(flag))
    if now and not was:
        return "deleted"
    if was and not now:
        return "undeleted"
    return "updated"


def _is_ttl(identity: Any) -> bool:
    return (
        type(identity) is dict
        and identity.get("type") == TTL_USER_IDENTITY["type"]
        and identity.get("principalId") == TTL_USER_IDENTITY["principalId"]
    )


class ImageDeserializer(TypeDeserializer):
    """boto3's ``TypeDeserializer`` for the images of stream records.

    Differences, local to instances of this class (boto3's own class is left alone):

    - ``numbers="native"`` turns ``N`` into ``int`` when integral, else ``float``;
      ``numbers="decimal"`` keeps boto3's ``Decimal``;
    - a number that is not a finite number's text is an error, not ``Decimal('NaN')``;
    - ``B`` accepts the base64 text of Lambda's JSON as well as bytes (-> ``Binary``);
    - dispatch is one dict lookup per value instead of building a method name.

    >>> ImageDeserializer("native").image({"n": {"N": "2"}, "f": {"N": "0.5"}})
    {'n': 2, 'f': 0.5}
    """

    def __init__(self, numbers: Numbers = "native") -> None:
        if numbers not in ("native", "decimal"):
            raise ConfigurationError(f"numbers must be 'native' or 'decimal', not {numbers!r}")
        self._native = numbers == "native"
        self._by_tag = {tag: getattr(self, f"_deserialize_{tag.lower()}") for tag in _TAGS}

    def image(self, image: Mapping[str, Any]) -> dict[str, Any]:
        """The Python item of a DynamoDB JSON image (``{"name": {"S": "..."}, ...}``)."""
        deserialize = self.deserialize
        return {name: deserialize(value) for name, value in image.items()}

    def deserialize(self, value: Any) -> Any:
        if type(value) is dict and len(value) == 1:
            for tag, inner in value.items():
                method = self._by_tag.get(tag)
                if method is not None:
                    return method(inner)
        raise TypeError(f"not a DynamoDB attribute value: {short_repr(value)}")

    def _deserialize_n(self, value: Any) -> Decimal | int | float:
        if type(value) is not str:
            raise TypeError(f"a DynamoDB number is a string, not {short_repr(value)}")
        if self._native:
            try:
                return int(value)  # the common case, and the fastest
            except ValueError:
                pass
        number = DYNAMODB_CONTEXT.create_decimal(value)
        if not number.is_finite():  # boto3 would return Decimal('NaN'); DynamoDB has none
            raise ValueError(f"not a DynamoDB number: {short_repr(value)}")
        if self._native:
            return int(number) if number == number.to_integral_value() else float(number)
        return number

    def _deserialize_b(self, value: Any) -> Binary:
        if type(value) is str:
            value = b64decode(value, validate=True)
        return Binary(value)


class _RecordSerializer(TypeSerializer):
    """``TypeSerializer`` that writes what Lambda's JSON holds: floats become the ``Decimal``
    of their shortest text, bytes become base64 text."""

    def _is_number(self, value: Any) -> bool:
        return isinstance(value, (int, Decimal, float))

    def _serialize_n(self, value: Any) -> str:
        if isinstance(value, float):
            value = Decimal(repr(value))
        return super()._serialize_n(value)

    def _serialize_b(self, value: Any) -> str:
        return b64encode(super()._serialize_b(value)).decode("ascii")

    def image(self, item: Mapping[str, Any]) -> dict[str, Any]:
        serialize = self.serialize
        return {name: serialize(value) for name, value in item.items()}


def to_dynamodb_records(
    events: Iterable[Mapping[str, Any]],
    *,
    stream_arn: str = STREAM_ARN,
) -> dict[str, Any]:
    """Build a DynamoDB Streams trigger event, one record per change, in order.

    Each change is ``{"keys": {...}, "newImage": {...} | None, "oldImage": {...} | None,
    "timestamp": epoch seconds}`` (the shape of aws-lambda-stream's builder), optionally
    with ``"userIdentity"`` (e.g. ``TTL_USER_IDENTITY`` for a TTL removal). ``eventName``
    is ``INSERT`` without an old image, ``REMOVE`` without a new image, else ``MODIFY``;
    ``keys`` defaults to the ``pk``/``sk`` of the image. Items are marshalled the way Lambda
    delivers them (floats as numbers, bytes as base64); sequence numbers are increasing
    21-digit strings; the region comes from ``stream_arn``.
    """
    serializer = _RecordSerializer()
    region = stream_arn.split(":")[3]
    records = []
    for i, change in enumerate(events):
        new = change.get("newImage")
        old = change.get("oldImage")
        keys = change.get("keys")
        if keys is None:
            image = new or old or {}
            keys = {name: image[name] for name in ("pk", "sk") if name in image}
        timestamp = change.get("timestamp")
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": CREATED if timestamp is None else timestamp,
            "Keys": serializer.image(keys),
            "SequenceNumber": f"{10**20 + i + 1}",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new:
            dynamodb["NewImage"] = serializer.image(new)
        if old:
            dynamodb["OldImage"] = serializer.image(old)
        record: dict[str, Any] = {
            "eventID": f"{i}",
            "eventName": "INSERT" if not old else "REMOVE" if not new else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": region,
            "dynamodb": dynamodb,
            "eventSourceARN": stream_arn,
        }
        identity = change.get("userIdentity")
        if identity is not None:
            record["userIdentity"] = dict(identity)
        records.append(record)
    return {"Records": records}
