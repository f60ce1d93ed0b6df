"""JSON encoding for events: the types DynamoDB and Python hand us, written compactly.

``Decimal`` becomes an int when integral and a float otherwise; ``set`` becomes a sorted
list when sortable; ``datetime``/``date`` become ISO-8601 strings; ``bytes`` (and DynamoDB
``Binary``) become base64.
Anything else raises ``TypeError`` (a fault for that record, never a silent ``str()``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from decimal import Decimal
from typing import Any

__all__ = ["default", "dumps", "size_of"]


def default(value: Any) -> Any:
    """``json.dumps`` hook for the non-JSON types found in events."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    binary = getattr(value, "value", None)  # boto3.dynamodb.types.Binary, without importing it
    if isinstance(binary, (bytes, bytearray)):
        return base64.b64encode(binary).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encoder = json.JSONEncoder(separators=(",", ":"), default=default, ensure_ascii=False)


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``."""
    return _encoder.encode(value)


def size_of(text: str) -> int:
    """Size in bytes of ``text`` as UTF-8 (what AWS request limits count)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))
