"""Event patterns (EventBridge rules, Lambda ``FilterCriteria``) matched like AWS.

>>> Pattern.load({"detail": {"amount": [{"numeric": [">", 100]}]}}).matches(
...     {"detail": {"amount": 150}})
True
>>> Pattern.load({"detail": {"items": {"sku": ["b-2"]}}}).matches(
...     {"detail": {"items": [{"sku": "a-1"}, {"sku": "b-2"}]}})
True

The matcher follows AWS's open-source Event Ruler (``rulesForJSONEvent``), which is what
EventBridge documents:

* The event is flattened into leaf fields named by their dotted path. Arrays add nothing to
  the name ("crushed out"), at any depth, so ``{"items": {"sku": [...]}}`` looks into every
  object of ``items`` and a leaf matcher against an array value matches if any element does.
* **Array consistency**: the fields that match one rule must not come from different
  elements of the same array. ``{"items": {"sku": ["a-1"], "qty": [2]}}`` needs one item
  with both.
* A pattern array is an OR of matchers; the fields of an object are an AND; ``$or`` expands
  a rule into alternatives.
* Matchers only ever see leaves: an object is not a value, and ``exists`` is about leaves
  (``{"customer": [{"exists": true}]}`` is false when ``customer`` is an object).
* ``exists: false`` holds when no leaf of that name is consistent with the array elements
  the fields before it (in name order, as Ruler evaluates them) were matched in. Alone,
  inside an array, that means: no element has the key.
* Values compare by JSON type: ``"5"`` is not ``5``, ``true`` is not ``1``; ``300`` equals
  ``300.0``. ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` and ``cidr`` only
  match strings, ``numeric`` only numbers; ``anything-but`` needs the field to be present.

moto's own ``EventPattern`` does not match into arrays of objects and matches everything for
an operator it does not know. ``Pattern.load`` therefore also checks the pattern the way
EventBridge would (a typo such as ``"prefx"`` is an error, not a rule that matches every
event), and the moto_server that stream-local starts matches rules with this module
(``moto_entry.py``), so rule routing and ``FilterCriteria`` agree.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["OPERATORS", "Pattern", "PatternError", "RecordFilter"]

OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "equals-ignore-case",
        "wildcard",
    }
)
_NUMERIC = frozenset({"<", "<=", "=", ">=", ">"})
_ANYTHING_BUT_OPERATORS = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})
_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}

# A leaf of the flattened event: its value and the array elements it sits in, as
# ((array id, element index), ...).
_Leaf = tuple[Any, tuple[tuple[int, int], ...]]
# One alternative of a rule after ``$or`` expansion: (field path, matchers), sorted by path.
_Rule = tuple[tuple[str, tuple[Any, ...]], ...]


class PatternError(ValueError):
    """An event pattern that EventBridge would reject."""


class Pattern:
    """A checked event pattern; ``matches(event)`` decides like EventBridge."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        _check(pattern, "")
        self.pattern = dict(pattern)
        self._rules = _compile(self.pattern)

    @classmethod
    def load(cls, pattern: str | Mapping[str, Any]) -> Pattern:
        if isinstance(pattern, str):
            try:
                pattern = json.loads(pattern)
            except json.JSONDecodeError as err:
                raise PatternError(f"pattern is not JSON: {err}") from err
        if not isinstance(pattern, Mapping):
            raise PatternError("a pattern must be a JSON object")
        return cls(pattern)

    def matches(self, event: Any) -> bool:
        if not self._rules:
            return True  # the empty pattern
        fields = _flatten(event)
        return any(_match_rule(rule, 0, fields, {}) for rule in self._rules)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"


# ---- checking ---------------------------------------------------------------------------


def _check(node: Mapping[str, Any], path: str) -> None:
    for key, value in node.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(f"{where}: $or needs a list of at least two patterns")
            for option in value:
                if not isinstance(option, Mapping):
                    raise PatternError(f"{where}: every $or option must be an object")
                if not option:
                    raise PatternError(f"{where}: empty objects are not allowed")
                _check(option, path)
        elif isinstance(value, Mapping):
            if not value:
                raise PatternError(f"{where}: empty objects are not allowed")
            _check(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"{where}: empty arrays are not allowed")
            for item in value:
                if isinstance(item, Mapping):
                    _check_operator(item, where)
                elif isinstance(item, list):
                    raise PatternError(f"{where}: a match value cannot be an array")
        else:
            raise PatternError(f"{where}: must be an object or an array")


def _check_operator(item: Mapping[str, Any], where: str) -> None:
    if len(item) != 1:
        raise PatternError(f"{where}: a matcher object has exactly one operator: {dict(item)}")
    ((name, argument),) = item.items()
    if name not in OPERATORS:
        raise PatternError(f"{where}: unknown operator {name!r} (known: {sorted(OPERATORS)})")
    if name == "numeric":
        if not isinstance(argument, list) or len(argument) % 2 or not argument:
            raise PatternError(f"{where}: numeric takes [op, value, ...]: {argument!r}")
        for op, number in zip(argument[::2], argument[1::2], strict=True):
            if op not in _NUMERIC or not _is_number(number):
                raise PatternError(f"{where}: bad numeric comparison {op!r} {number!r}")
    elif name == "exists" and not isinstance(argument, bool):
        raise PatternError(f"{where}: exists takes true or false")
    elif name in ("prefix", "suffix"):
        if isinstance(argument, Mapping):
            if set(argument) != {"equals-ignore-case"} or not isinstance(
                argument["equals-ignore-case"], str
            ):
                raise PatternError(
                    f"{where}: {name} takes a string or {{'equals-ignore-case': string}}"
                )
        elif not isinstance(argument, str):
            raise PatternError(f"{where}: {name} takes a string")
    elif name in ("equals-ignore-case", "wildcard") and not isinstance(argument, str):
        raise PatternError(f"{where}: {name} takes a string")
    elif name == "cidr":
        try:
            ipaddress.ip_network(argument, strict=False)
        except (TypeError, ValueError) as err:
            raise PatternError(f"{where}: bad cidr {argument!r}") from err
    elif name == "anything-but":
        _check_anything_but(argument, where)


def _check_anything_but(argument: Any, where: str) -> None:
    if isinstance(argument, Mapping):
        if len(argument) != 1 or next(iter(argument)) not in _ANYTHING_BUT_OPERATORS:
            raise PatternError(
                f"{where}: anything-but takes a value, a list or one of "
                f"{sorted(_ANYTHING_BUT_OPERATORS)}: {dict(argument)}"
            )
        ((name, value),) = argument.items()
        values = value if isinstance(value, list) and name == "equals-ignore-case" else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            raise PatternError(f"{where}: anything-but {name} takes a non-empty string")
    elif isinstance(argument, list):
        if not argument or not (
            all(isinstance(v, str) for v in argument) or all(_is_number(v) for v in argument)
        ):
            raise PatternError(f"{where}: anything-but lists hold only strings or only numbers")
    elif not (isinstance(argument, str) or _is_number(argument)):
        raise PatternError(f"{where}: anything-but takes a string, a number or a list")


# ---- compiling and matching -------------------------------------------------------------


def _compile(pattern: Mapping[str, Any]) -> list[_Rule]:
    """The pattern's alternatives (``$or`` expanded), each a path-sorted list of fields."""
    return [tuple(sorted(alt, key=lambda field: field[0])) for alt in _expand(pattern, "")]


def _expand(node: Mapping[str, Any], prefix: str) -> list[list[tuple[str, tuple[Any, ...]]]]:
    alternatives: list[list[tuple[str, tuple[Any, ...]]]] = [[]]
    for key, value in node.items():
        if key == "$or" and isinstance(value, list):
            options = [alt for option in value for alt in _expand(option, prefix)]
        else:
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                options = _expand(value, path)
            else:
                options = [[(path, tuple(value) if isinstance(value, list) else (value,))]]
        alternatives = [done + option for done in alternatives for option in options]
    return alternatives


def _flatten(event: Any) -> dict[str, list[_Leaf]]:
    """Leaf fields by dotted path; arrays add no name, only (array id, index) membership."""
    fields: dict[str, list[_Leaf]] = {}
    ids = itertools.count()

    def walk(node: Any, path: str, arrays: tuple[tuple[int, int], ...]) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key), arrays)
        elif isinstance(node, (list, tuple)):
            array = next(ids)
            for index, item in enumerate(node):
                walk(item, path, (*arrays, (array, index)))
        else:
            fields.setdefault(path, []).append((node, arrays))

    walk(event, "", ())
    return fields


def _match_rule(
    rule: _Rule, position: int, fields: Mapping[str, list[_Leaf]], elements: dict[int, int]
) -> bool:
    """Backtracking over the rule's fields in name order, keeping array consistency:
    ``elements`` maps each array the matched leaves sit in to the element they came from."""
    if position == len(rule):
        return True
    path, matchers = rule[position]
    leaves = [leaf for leaf in fields.get(path, ()) if _consistent(elements, leaf[1])]
    absent = not leaves and any(_is_exists(m, False) for m in matchers)
    if absent and _match_rule(rule, position + 1, fields, elements):
        return True
    tried: set[tuple[tuple[int, int], ...]] = set()
    for value, arrays in leaves:
        if arrays in tried or not any(_value_matches(m, value) for m in matchers):
            continue
        tried.add(arrays)
        if _match_rule(rule, position + 1, fields, {**elements, **dict(arrays)}):
            return True
    return False


def _consistent(elements: Mapping[int, int], arrays: Sequence[tuple[int, int]]) -> bool:
    return all(elements.get(array, index) == index for array, index in arrays)


def _is_exists(matcher: Any, flag: bool) -> bool:
    return isinstance(matcher, Mapping) and matcher.get("exists", not flag) is flag


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equals(expected: Any, value: Any) -> bool:
    """JSON equality: types must agree (``True`` is not ``1``), numbers by value."""
    if _is_number(expected):
        return _is_number(value) and value == expected
    if isinstance(expected, bool) or expected is None:
        return value is expected
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    return False


def _value_matches(matcher: Any, value: Any) -> bool:
    """Whether one pattern matcher (a value or an operator object) matches one leaf."""
    if not isinstance(matcher, Mapping):
        return _equals(matcher, value)
    if len(matcher) != 1:
        return False
    ((name, argument),) = matcher.items()
    if name == "exists":
        return argument is True  # a leaf is there; exists:false is decided by absence
    if name == "anything-but":
        return _anything_but(argument, value)
    return _operator(name, argument, value)


def _operator(name: str, argument: Any, value: Any) -> bool:
    if name == "numeric":
        if not _is_number(value) or not isinstance(argument, list):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=False)
        return all(op in _COMPARE and _COMPARE[op](value, bound) for op, bound in pairs)
    if not isinstance(value, str):
        return False  # every other operator matches strings only
    if name in ("prefix", "suffix"):
        if isinstance(argument, Mapping):  # {"prefix": {"equals-ignore-case": "..."}}
            argument = str(argument.get("equals-ignore-case", "")).casefold()
            value = value.casefold()
        if not isinstance(argument, str):
            return False
        return value.startswith(argument) if name == "prefix" else value.endswith(argument)
    if name == "equals-ignore-case":
        return isinstance(argument, str) and value.casefold() == argument.casefold()
    if name == "wildcard":
        return isinstance(argument, str) and _wildcard(argument).fullmatch(value) is not None
    if name == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(argument, strict=False)
        except (TypeError, ValueError):
            return False
    return False  # unknown operator: never matches (moto would match everything)


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, Mapping):
        if len(argument) != 1:
            return False
        ((name, inner),) = argument.items()
        if name == "equals-ignore-case" and isinstance(inner, list):
            return not any(_operator(name, one, value) for one in inner)
        return not _operator(name, inner, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equals(one, value) for one in excluded)


_WILDCARDS: dict[str, re.Pattern[str]] = {}


def _wildcard(pattern: str) -> re.Pattern[str]:
    compiled = _WILDCARDS.get(pattern)
    if compiled is None:
        parts, i = [], 0
        while i < len(pattern):
            char = pattern[i]
            if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
                parts.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            parts.append(".*" if char == "*" else re.escape(char))
            i += 1
        compiled = _WILDCARDS[pattern] = re.compile("".join(parts), re.DOTALL)
    return compiled


# ---- Lambda FilterCriteria --------------------------------------------------------------


class RecordFilter:
    """Lambda ``FilterCriteria`` for one event source kind.

    A record is delivered when any filter matches. Like Lambda, the pattern sees the
    record with its payload decoded when it is JSON: Kinesis ``data`` (the pattern keys are
    those of the record's ``kinesis`` object), SQS ``body``; DynamoDB records as they are.
    """

    def __init__(self, kind: str, patterns: Iterable[Pattern]) -> None:
        self.kind = kind
        self.patterns = list(patterns)

    @classmethod
    def from_criteria(cls, kind: str, criteria: Mapping[str, Any] | None) -> RecordFilter | None:
        filters = (criteria or {}).get("Filters") or []
        if not filters:
            return None
        return cls(kind, [Pattern.load(f["Pattern"]) for f in filters])

    def view(self, record: Mapping[str, Any]) -> dict[str, Any]:
        if self.kind == "kinesis":
            view = dict(record.get("kinesis") or {})
            view["data"] = _json_or_raw(_b64(view.get("data")))
            return view
        if self.kind == "sqs":
            view = dict(record)
            view["body"] = _json_or_raw(view.get("body"))
            return view
        return dict(record)

    def matches(self, record: Mapping[str, Any]) -> bool:
        view = self.view(record)
        return any(pattern.matches(view) for pattern in self.patterns)


def _b64(data: Any) -> Any:
    if not isinstance(data, str):
        return data
    try:
        return base64.b64decode(data).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return data


def _json_or_raw(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
