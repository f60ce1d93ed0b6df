"""DynamoDB Streams trigger -> UOWs, and a record builder for tests.

Each stream record becomes one change event:

- ``id``: the record's ``eventID``;
- ``type``: ``f"{prefix}-{suffix}"``, the prefix being ``event_type_prefix`` when given, else
  the image's ``discriminator`` attribute, else its ``sk`` attribute; the suffix ``created``,
  ``updated`` or ``deleted`` for ``INSERT``, ``MODIFY`` or ``REMOVE``;
- ``timestamp``: the image's ``timestamp`` attribute (new image first), else
  ``ApproximateCreationDateTime`` in ms;
- ``partition_key``: the text of the ``pk`` key; ``tags``: ``{"region": awsRegion}``;
- ``raw``: ``{"new": new image or None, "old": old image or None}``, unmarshalled.

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

from base64 import b64decode, b64encode
from collections.abc import Iterable, Mapping
from decimal import Decimal
from reprlib import repr as short_repr
from types import MappingProxyType
from typing import Any, Literal

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer, TypeSerializer

from ..errors import ConfigurationError
from ..types import Event, Uow
from ._base import malformed, records_of, sort_uows

__all__ = ["ImageDeserializer", "from_dynamodb", "to_dynamodb_records"]

Numbers = Literal["native", "decimal"]

STREAM_ARN = (
    "arn:aws:dynamodb:us-west-2:123456789012:table/test-table/stream/2019-01-31T20:37:02.123"
)
CREATED = 1548967022  # epoch seconds

# eventName -> type suffix. Soft deletes (deleted/undeleted), TTL removals and global-table
# replica records are decided in _event_of, next to this lookup, when they come.
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
) -> list[Uow]:
    """Decode a DynamoDB Streams trigger event into UOWs ordered by event timestamp.

    ``pk`` names the key attribute that becomes ``partition_key``; ``discriminator`` and
    ``sk`` name the image attributes that prefix the event type, unless
    ``event_type_prefix`` is given. ``numbers`` is ``"native"`` (int/float) or ``"decimal"``.
    """
    deserializer = ImageDeserializer(numbers)
    image_of = deserializer.image
    uows = []
    append = uows.append
    for record in records_of(event, "dynamodb"):
        try:
            change = _event_of(record, image_of, pk, sk, discriminator, event_type_prefix)
        except _Malformed as err:
            append(malformed(record, str(err), err.__cause__))
            continue
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            append(malformed(record, f"dynamodb record cannot be decoded: {err!r}", err))
            continue
        append({"record": record, "event": change})
    return sort_uows(uows)


class _Malformed(ValueError):
    """A record that cannot become an event; the message is the fault's reason."""


def _event_of(
    record: Mapping[str, Any],
    image_of: Any,
    pk: str,
    sk: str | None,
    discriminator: str | None,
    event_type_prefix: str | None,
) -> Event:
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
    [key_value] = key.values()
    return {
        "id": event_id,
        "type": f"{prefix}-{suffix}",
        "timestamp": timestamp,
        "partition_key": str(key_value),
        "tags": {"region": record.get("awsRegion")},
        "raw": {"new": new, "old": old},
    }


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
    "timestamp": epoch seconds}`` (the shape of aws-lambda-stream's builder). ``eventName``
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
        records.append(
            {
                "eventID": f"{i}",
                "eventName": "INSERT" if not old else "REMOVE" if not new else "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": dynamodb,
                "eventSourceARN": stream_arn,
            }
        )
    return {"Records": records}
