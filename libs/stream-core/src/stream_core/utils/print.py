"""Debug tracing of UOWs through a rule, free when debug logging is off.

``print_start_pipeline(rule)`` / ``print_end_pipeline(rule)`` return actions for
``ops.do_action``. The logger's level is checked per call and nothing is formatted unless
DEBUG is enabled; the log line carries the rule id and the event id as structured keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["print_end_pipeline", "print_start_pipeline", "rule_logger"]


def rule_logger(rule: Mapping[str, Any]) -> Any:
    """The rule's logger (``rule['logger']``), else the ``stream_core`` logger."""
    return rule.get("logger") or logging.getLogger("stream_core")


def _printer(rule: Mapping[str, Any], stage: str) -> Callable[[Mapping[str, Any]], None]:
    logger = rule_logger(rule)
    pipeline = rule.get("id")

    def action(uow: Mapping[str, Any]) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            event = uow.get("event") or {}
            logger.debug(
                "%s type: %s, eid: %s",
                stage,
                event.get("type"),
                event.get("id"),
                extra={"pipeline": pipeline, "event_id": event.get("id")},
            )

    return action


def print_start_pipeline(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], None]:
    """Action logging that a UOW entered ``rule`` (DEBUG)."""
    return _printer(rule, "start")


def print_end_pipeline(rule: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], None]:
    """Action logging that a UOW left ``rule`` (DEBUG)."""
    return _printer(rule, "end")
