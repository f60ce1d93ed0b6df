"""Per-rule metrics in CloudWatch Embedded Metric Format (Powertools Metrics), off by default.

Turn them on with ``options["metrics"] = True`` (or ``STREAM_CORE_METRICS=1`` in the
environment, which ``DEFAULT_OPTIONS`` reads per invocation). At the end of each
``StreamPipeline.assemble`` (after the faults are published) one EMF line per rule is
printed to stdout, where Lambda's log stream makes CloudWatch metrics of it:

===============  ==============  ==========================================================
metric           unit            value
===============  ==============  ==========================================================
``UowsIn``       Count           UOWs routed to the rule (its ``event_type`` matched)
``UowsOut``      Count           UOWs the rule's operator emitted
``Faults``       Count           fault events tagged with the rule (``tags.pipeline``),
                                 including events that failed the rule's ``schema``
``Duration``     Milliseconds    wall time of the rule over the batch (rules may overlap)
===============  ==============  ==========================================================

- dimension ``pipeline`` (the rule id), plus Powertools' ``service`` dimension when
  ``POWERTOOLS_SERVICE_NAME`` is set;
- namespace ``options["metrics_namespace"]``, else ``POWERTOOLS_METRICS_NAMESPACE``, else
  ``"stream-core"``;
- a rule that received no UOW and has no fault emits nothing for that invocation (no lines
  of zeros for idle rules); faults that belong to no rule (records that could not be
  decoded) are counted under ``pipeline="undefined"``, with ``Faults`` only;
- records that failed with a ``RetryableError`` are not faults and are not counted;
- an invocation that fails (an error reached ``on_error`` and was raised) emits nothing,
  since Lambda delivers the whole batch again;
- Powertools' ``POWERTOOLS_METRICS_DISABLED`` (and ``POWERTOOLS_DEV``) are honoured.

``aws_lambda_powertools.metrics`` is imported only when metrics are on. Emitting never fails
the invocation: an error is logged as a warning. A fresh ``EphemeralMetrics`` is used, so
the metrics a handler adds to its own Powertools ``Metrics`` are neither flushed nor
dimensioned by stream-core.

>>> options = {**DEFAULT_OPTIONS, "metrics": True, "metrics_namespace": "orders"}
>>> StreamPipeline(initialize_from(rules), options).assemble(uows)      # doctest: +SKIP
{"_aws": {..., "CloudWatchMetrics": [{"Namespace": "orders", "Dimensions": [["pipeline"]],
 ...}]}, "pipeline": "materialize-thing", "UowsIn": 10, "UowsOut": 10, "Faults": 0, ...}
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .stream import BatchResult

__all__ = ["DEFAULT_NAMESPACE", "emit_metrics", "metrics_enabled"]

log = logging.getLogger("stream_core.pipeline")

DEFAULT_NAMESPACE = "stream-core"
#: The pipeline dimension of faults that belong to no rule (as in their ``tags.pipeline``).
UNDEFINED = "undefined"


def metrics_enabled(options: Mapping[str, Any]) -> bool:
    """Whether ``options`` turn metrics on (``options["metrics"]`` truthy)."""
    return bool(options.get("metrics"))


def emit_metrics(result: BatchResult, options: Mapping[str, Any], logger: Any = None) -> None:
    """Print one EMF line per rule of ``result`` (see the module docstring)."""
    try:
        _emit(result, options)
    except Exception as err:  # metrics are best effort: never fail a processed batch
        (logger or log).warning("metrics not emitted: %s: %s", type(err).__name__, err)


def _emit(result: BatchResult, options: Mapping[str, Any]) -> None:
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    namespace = (
        options.get("metrics_namespace")
        or os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
        or DEFAULT_NAMESPACE
    )
    faults = Counter(fault.get("tags", {}).get("pipeline") or UNDEFINED for fault in result.faults)
    for pipeline_id, uows_in in result.inputs.items():
        fault_count = faults.pop(pipeline_id, 0)
        if not uows_in and not fault_count:
            continue
        # One object per line: nothing carries over, even when Powertools skips a flush
        # (POWERTOOLS_METRICS_DISABLED) and so does not clear what was added.
        metrics = EphemeralMetrics(namespace=namespace)
        metrics.add_dimension(name="pipeline", value=pipeline_id)
        metrics.add_metric(name="UowsIn", unit=MetricUnit.Count, value=uows_in)
        metrics.add_metric(
            name="UowsOut", unit=MetricUnit.Count, value=result.outputs.get(pipeline_id, 0)
        )
        metrics.add_metric(name="Faults", unit=MetricUnit.Count, value=fault_count)
        metrics.add_metric(
            name="Duration",
            unit=MetricUnit.Milliseconds,
            value=result.durations.get(pipeline_id, 0.0),
        )
        metrics.flush_metrics()
    for pipeline_id, fault_count in faults.items():  # faults of no (known) rule
        metrics = EphemeralMetrics(namespace=namespace)
        metrics.add_dimension(name="pipeline", value=str(pipeline_id))
        metrics.add_metric(name="Faults", unit=MetricUnit.Count, value=fault_count)
        metrics.flush_metrics()
