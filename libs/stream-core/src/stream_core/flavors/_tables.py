"""Which DynamoDB table a data flavor writes, and the connector for it.

A rule names its table with ``table_name``; otherwise the flavor's environment variable is
read when the rule's operator is built (``ENTITY_TABLE_NAME`` for views: materialize,
update, cdc queries; ``EVENT_TABLE_NAME`` for the events table: collect, correlate,
evaluate). ``connector`` injects a ready ``DynamoDBConnector`` (tests, latency benches).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..connectors.dynamodb import DynamoDBConnector
from ..errors import ConfigurationError

__all__ = ["ENTITY_TABLE", "EVENT_TABLE", "table_for"]

ENTITY_TABLE = ("ENTITY_TABLE_NAME", "EVENT_TABLE_NAME")
EVENT_TABLE = ("EVENT_TABLE_NAME", "ENTITY_TABLE_NAME")


def table_for(rule: Mapping[str, Any], env_names: tuple[str, ...]) -> DynamoDBConnector:
    """The connector of the rule's table (see the module doc)."""
    connector = rule.get("connector")
    if connector is not None:
        return connector
    name = rule.get("table_name")
    if not name:
        name = next((os.environ[n] for n in env_names if os.environ.get(n)), None)
    if not name:
        raise ConfigurationError(
            f"rule {rule.get('id')!r}: no table: set 'table_name' or "
            f"{' / '.join(env_names)} in the environment"
        )
    return DynamoDBConnector(name, max_in_flight=rule.get("max_in_flight") or 16)
