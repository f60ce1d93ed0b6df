"""Dot-path access and dict filters over events.

``get_path(event, "detail.state.value")`` walks dicts by key and lists by integer index.
A *dict filter* such as ``{"detail.state.value": "ALARM", "detail.previousState.value":
"OK"}`` matches an event when every path exists and its value equals the expected one
(or, when the expected value is callable, when ``expected(value)`` is truthy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MISSING", "compile_dict_filter", "get_path"]

MISSING: Any = object()


def _split(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _walk(value: Any, keys: tuple[str, ...], default: Any) -> Any:
    for key in keys:
        if isinstance(value, Mapping):
            if key not in value:
                return default
            value = value[key]
        elif isinstance(value, (list, tuple)) and key.lstrip("-").isdigit():
            index = int(key)
            if not -len(value) <= index < len(value):
                return default
            value = value[index]
        else:
            return default
    return value


def get_path(value: Any, path: str, default: Any = None) -> Any:
    """The value at dot ``path`` inside ``value``, or ``default`` when it is absent.

    >>> get_path({"detail": {"items": [{"id": 7}]}}, "detail.items.0.id")
    7
    """
    return _walk(value, _split(path), default)


def compile_dict_filter(spec: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A predicate over an event for the dict filter ``spec`` (paths split once, here)."""
    checks = [(_split(path), expected) for path, expected in spec.items()]

    def matches(event: Any) -> bool:
        for keys, expected in checks:
            actual = _walk(event, keys, MISSING)
            if actual is MISSING:
                return False
            if callable(expected):
                if not expected(actual):
                    return False
            elif actual != expected:
                return False
        return True

    return matches
