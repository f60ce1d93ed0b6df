"""CloudFormation intrinsic functions as data: find references, substitute them, and
evaluate the few expressions whose value is knowable before a stack exists.

Templates are plain JSON (``serverless package`` writes the long form, ``{"Ref": X}``,
``{"Fn::GetAtt": [X, "Arn"]}``, ``{"Fn::Sub": "...${X.Arn}..."}``); nothing here mutates its
input: every function returns new data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = [
    "Unknown",
    "getatt_target",
    "is_intrinsic",
    "literal",
    "references",
    "rewrite",
    "substitute",
]

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Unknown(ValueError):
    """An expression whose value is only known once the stack exists."""


def is_intrinsic(node: Any) -> bool:
    """``{"Ref": ...}`` or ``{"Fn::...": ...}`` (a dict with exactly that one key)."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    (key,) = node
    return key == "Ref" or key.startswith("Fn::")


def getatt_target(value: Any) -> tuple[str, str]:
    """``(logical_id, attribute)`` of a ``Fn::GetAtt`` argument (list or "X.Attr")."""
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return logical_id, attribute
    return str(value[0]), str(value[1])


def _sub_parts(value: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(value, str):
        return value, {}
    return str(value[0]), dict(value[1]) if len(value) > 1 else {}


def references(node: Any) -> Iterator[str]:
    """Logical ids (and pseudo parameters) that ``node`` refers to, with repeats."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                yield getatt_target(value)[0]
            elif key == "Fn::Sub":
                text, variables = _sub_parts(value)
                for name in _SUB_VAR.findall(text):
                    name = name.split(".", 1)[0]
                    if name not in variables:
                        yield name
                yield from references(variables)
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def rewrite(node: Any, fn: Callable[[Any], Any | None]) -> Any:
    """Copy ``node``, replacing every sub-node for which ``fn`` returns non-None."""
    replaced = fn(node)
    if replaced is not None:
        return replaced
    if isinstance(node, dict):
        return {key: rewrite(value, fn) for key, value in node.items()}
    if isinstance(node, list):
        return [rewrite(item, fn) for item in node]
    return node


def substitute(
    node: Any,
    ref: Mapping[str, Any],
    getatt: Mapping[tuple[str, str], Any],
    *,
    sub_names: Mapping[str, str] | None = None,
    getatt_default: Callable[[str, str], Any | None] | None = None,
) -> Any:
    """Replace ``Ref X`` by ``ref[X]`` and ``GetAtt X.A`` by ``getatt[(X, A)]`` (else by
    ``getatt_default(X, A)`` when that is not None).

    Both maps hold replacement nodes (literals or other expressions). Inside ``Fn::Sub``
    strings, ``${X}``/``${X.A}`` are replaced by string literals from the same maps, or
    renamed through ``sub_names`` (``{"Bus": "Bus.Name"}`` turns ``${Bus}`` into
    ``${Bus.Name}``).
    """
    sub_names = sub_names or {}

    def attribute_of(logical_id: str, attribute: str) -> Any | None:
        if (logical_id, attribute) in getatt:
            return getatt[(logical_id, attribute)]
        return getatt_default(logical_id, attribute) if getatt_default else None

    def one(value: Any) -> Any | None:
        if not is_intrinsic(value):
            return None
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str) and arg in ref:
            return ref[arg]
        if key == "Fn::GetAtt":
            replacement = attribute_of(*getatt_target(arg))
            if replacement is not None:
                return replacement
        if key == "Fn::Sub":
            text, variables = _sub_parts(arg)

            def var(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in variables:
                    return match.group(0)
                logical_id, _, attribute = name.partition(".")
                literal_value = attribute_of(logical_id, attribute) if attribute else ref.get(name)
                if isinstance(literal_value, str):
                    return literal_value.replace("${", "${!")
                if name in sub_names:
                    return "${" + sub_names[name] + "}"
                return match.group(0)

            new_text = _SUB_VAR.sub(var, text)
            new_vars = {
                k: substitute(v, ref, getatt, sub_names=sub_names, getatt_default=getatt_default)
                for k, v in variables.items()
            }
            return {"Fn::Sub": [new_text, new_vars] if new_vars else new_text}
        return None

    return rewrite(node, one)


def literal(node: Any, pseudo: Mapping[str, str]) -> Any:
    """The value of ``node`` if it needs nothing but ``pseudo`` parameters
    (``AWS::StackName``, ``AWS::Region``, ...); raises ``Unknown`` otherwise."""
    if isinstance(node, (str, int, float, bool)) or node is None:
        return node
    if isinstance(node, list):
        return [literal(item, pseudo) for item in node]
    if not is_intrinsic(node):
        if isinstance(node, dict):
            return {key: literal(value, pseudo) for key, value in node.items()}
        raise Unknown(repr(node))
    ((key, arg),) = node.items()
    if key == "Ref" and arg in pseudo:
        return pseudo[arg]
    if key == "Fn::Join":
        separator, items = arg
        return str(separator).join(str(literal(item, pseudo)) for item in items)
    if key == "Fn::Sub":
        text, variables = _sub_parts(arg)
        values = {name: literal(value, pseudo) for name, value in variables.items()}

        def var(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if name in pseudo:
                return pseudo[name]
            raise Unknown(name)

        return _SUB_VAR.sub(var, text).replace("${!", "${")
    raise Unknown(key)
