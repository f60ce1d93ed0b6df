"""``faulty``: tie a function's failures to the unit of work it was processing.

>>> from stream_core.utils.operators import rx_map
>>> step = rx_map(faulty(lambda uow: uow["event"]["thing"]["id"]))

Inside ``rx_map``/``rx_filter`` an exception faults the record either way; ``faulty`` makes
sure the fault names the UOW the function received, even when the exception surfaces
somewhere else (e.g. in a plain ``reactivex.operators.map``, where it ends the stream).
Configuration errors pass through untouched: they must fail the invocation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ConfigurationError
from ..faults import FAULT_EVENT_TYPE, fault_event, report_fault

__all__ = ["FAULT_EVENT_TYPE", "fault_event", "faulty", "report_fault"]

F = TypeVar("F", bound=Callable[..., Any])


def faulty(function: F) -> F:
    """Wrap ``function(uow, ...)`` so an exception it raises carries ``err.uow``."""

    @functools.wraps(function)
    def wrapper(uow: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(uow, *args, **kwargs)
        except ConfigurationError:
            raise
        except Exception as err:
            if getattr(err, "uow", None) is None:
                try:
                    err.uow = uow  # type: ignore[attr-defined]
                except AttributeError:  # exceptions with __slots__: keep the original
                    pass
            raise

    return wrapper  # type: ignore[return-value]
