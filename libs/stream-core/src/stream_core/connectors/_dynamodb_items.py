"""Marshalling for the DynamoDB connector: a float-friendly serializer, key identities,
item sizes as DynamoDB counts them, and matching ``UnprocessedItems`` to their requests."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "identity",
    "item_size",
    "serializer",
    "unprocessed_positions",
    "write_request_size",
]


def serializer() -> Any:
    """boto3's ``TypeSerializer`` that also takes floats (as the Decimal of their text)."""
    from boto3.dynamodb.types import TypeSerializer

    class FloatSerializer(TypeSerializer):
        def _is_number(self, value: Any) -> bool:
            return isinstance(value, (int, Decimal, float))

        def _serialize_n(self, value: Any) -> str:
            if isinstance(value, float):
                value = Decimal(repr(value))
            return super()._serialize_n(value)

    return FloatSerializer()


def identity(table: str, wire_key: Mapping[str, Any]) -> tuple[Any, ...]:
    """A hashable identity of a key: numbers compare by value ("1.0" is "1")."""
    parts = []
    for name in sorted(wire_key):
        [(tag, value)] = wire_key[name].items()
        parts.append((name, Decimal(value) if tag == "N" else value))
    return (table, *parts)


def unprocessed_positions(
    requests: list[dict[str, Any]], unprocessed: list[dict[str, Any]]
) -> list[int]:
    """Positions in ``requests`` of the ``unprocessed`` ones (DynamoDB echoes them back).

    If one cannot be matched, every position is returned: puts and deletes are idempotent,
    so writing one again is safe where losing one is not.
    """
    left = dict(enumerate(requests))
    positions = []
    for request in unprocessed:
        match = next((position for position, sent in left.items() if sent == request), None)
        if match is None:
            return list(range(len(requests)))
        positions.append(match)
        del left[match]
    return sorted(positions)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _value_size(value: Mapping[str, Any]) -> int:
    [(tag, inner)] = value.items()
    if tag == "S":
        return _utf8_len(inner)
    if tag == "N":
        digits = len(inner.lstrip("-").replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if tag == "B":
        return len(inner)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag in ("SS", "NS", "BS"):
        return sum(_value_size({tag[0]: element}) for element in inner)
    if tag == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if tag == "M":
        return 3 + sum(1 + _utf8_len(k) + _value_size(v) for k, v in inner.items())
    raise TypeError(f"not a DynamoDB attribute value type: {tag!r}")


def item_size(wire_item: Mapping[str, Any]) -> int:
    """Size of a marshalled item the way DynamoDB counts it against 400 KB (approximately:
    names and values in bytes, numbers one byte per two digits, 3 bytes per list or map)."""
    return sum(_utf8_len(name) + _value_size(value) for name, value in wire_item.items())


def write_request_size(request: Mapping[str, Any]) -> int:
    put = request.get("PutRequest")
    return item_size(put["Item"] if put else request["DeleteRequest"]["Key"])
