"""The runtime: delivers events to the deployed functions the way AWS would.

>>> runtime = Runtime(cloud, Registry.load(cloud))        # doctest: +SKIP
>>> runtime.start(); ...; runtime.stop()                   # doctest: +SKIP

It owns the warm workers of each function, one per concurrent invocation (``pool.py``,
``worker.py``), one poller per stream shard and per SQS queue of the event source mappings
(``pollers/``), one router per EventBridge rule tap (``eventbridge.py``), asynchronous
invocations with Lambda's retries, Firehose delivery streams (``firehose.py``), the TTL
sweeper (``ttl.py``), the REST APIs (``rest.py``) and Lambda's Invoke API
(``lambda_api.py``). Every delivery is written to the live log (``log.py``).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .chaos import Chaos
from .cloud import Cloud
from .eventbridge import TapRouter
from .firehose import FirehoseRuntime
from .lambda_api import LambdaApiServer
from .log import DeliveryLog
from .pollers.base import PollerThread, send_to_destination
from .pollers.dynamodb_streams import DynamoDBStreamSource
from .pollers.kinesis import KinesisSource
from .pollers.shard import ShardPoller, ShardSource
from .pollers.sqs import SqsPoller
from .pool import FunctionPool
from .registry import EventSourceMapping, Registry, function_name_of
from .rest import RestServer, routes_of
from .schedule import ScheduleRunner
from .sns import SnsTap
from .ttl import TtlLedger, TtlSweeper
from .watch import FaultWatcher
from .worker import FunctionSpec, InlineWorker, Invocation, Worker

__all__ = ["Clock", "Runtime", "RuntimeOptions", "wait_for"]


class Clock:
    """Wall-clock time plus an offset that scenarios move forward (``--clock``)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class RuntimeOptions:
    """Knobs of the local runtime (none of them changes what AWS would do)."""

    poll_interval: float = 0.05  # between reads of a busy shard
    idle_interval: float = 0.5  # longest wait between reads of an idle shard
    max_retry_delay: float = 2.0  # backoff cap between retries of a failing batch
    async_retry_delays: tuple[float, ...] = (1.0, 2.0)  # Lambda: about 1 and 2 minutes
    interactive: frozenset[str] = frozenset()  # functions whose worker keeps the terminal
    inline: frozenset[str] = frozenset()  # functions run inside this process
    python: str | None = None  # the interpreter of the workers (default: this one)
    ttl_interval: float = 1.0  # seconds between TTL sweeps (AWS: within days)
    firehose_interval_cap: float | None = None  # shorten long Firehose buffer intervals
    rest_port: int | None = None  # serve http/httpApi functions here (0: any free port)
    rest_host: str = "127.0.0.1"
    # concurrent invocations (worker processes) per function, unless it has reservedConcurrency
    concurrency: int = 4
    lambda_port: int | None = None  # serve Lambda's Invoke API here (0: any free port)
    lambda_host: str = "127.0.0.1"
    watch_faults: bool = False  # print every fault event on the buses (stream-local up)
    chaos: Chaos | None = None  # inject handler errors, throttling, duplicates (chaos.py)


class Runtime:
    """Workers, pollers and routers for everything in ``registry``."""

    def __init__(
        self,
        cloud: Cloud,
        registry: Registry,
        *,
        log: DeliveryLog | None = None,
        clock: Clock | None = None,
        options: RuntimeOptions | None = None,
    ) -> None:
        self.cloud = cloud
        self.registry = registry
        self.log = log or DeliveryLog()
        self.clock = clock or Clock()
        self.options = options or RuntimeOptions()
        self.workers: dict[str, FunctionPool] = {}
        self.pollers: list[PollerThread] = []
        self._running: dict[str, list[PollerThread]] = {}
        self._lock = threading.Lock()
        self._async = ThreadPoolExecutor(max_workers=4, thread_name_prefix="async-invoke")
        self.firehose: FirehoseRuntime | None = None
        self.ttl_ledger = TtlLedger()
        self.sweeper: TtlSweeper | None = None
        self.rest: RestServer | None = None
        self.lambda_api: LambdaApiServer | None = None
        self._stopped = False

    # ---- invoking -----------------------------------------------------------------------

    def worker(self, function: str) -> FunctionPool:
        """The warm workers of ``function`` (``pool.py``), made on first use."""
        name = function_name_of(function)
        with self._lock:
            if self._stopped:
                raise RuntimeError("the runtime is stopped")
            pool = self.workers.get(name)
            if pool is None:
                pool = self.workers[name] = self._pool(self.registry.function(name))
            return pool

    def _pool(self, spec: FunctionSpec) -> FunctionPool:
        env = self._worker_env()
        inline = spec.name in self.options.inline
        interactive = spec.name in self.options.interactive

        def make(instance: int) -> Worker | InlineWorker:
            if inline:
                return InlineWorker(spec, env)
            return Worker(
                spec,
                env,
                python=self.options.python,
                on_log=self.log.function_output,
                interactive=interactive,
                chaos=self.options.chaos,
                instance=instance,
            )

        # one at a time: a shared terminal, or one import of the handler in this process
        limit = (
            1 if inline or interactive else spec.reserved_concurrency or self.options.concurrency
        )
        return FunctionPool(make, limit=max(1, limit))

    def _worker_env(self) -> dict[str, str]:
        env = self.cloud.process_env()
        if self.lambda_api is not None:  # a handler's own lambda.invoke must reach a worker
            env["AWS_ENDPOINT_URL_LAMBDA"] = self.lambda_api.url
        return env

    def invoke(self, function: str, event: Any, *, source: str, records: int = 0) -> Invocation:
        """Synchronous invocation (an event source mapping, a REST request, ``send``)."""
        result = self.worker(function).invoke(event)
        self.log.invocation(source, function_name_of(function), records, result)
        return result

    def invoke_async(self, function: str, event: Any, *, source: str) -> None:
        """Asynchronous invocation: retried on error (``MaximumRetryAttempts``, default 2),
        then sent to the ``EventInvokeConfig`` on-failure destination, like Lambda."""
        self._async.submit(self._run_async, function_name_of(function), event, source)

    def _run_async(self, function: str, event: Any, source: str) -> None:
        try:
            self._retry_async(function, event, source)
        except Exception as err:  # nobody waits for the future: say it here
            if not self._stopped:
                self.log.notice(f"{function}: async invocation from {source}: {err}", error=True)

    def _retry_async(self, function: str, event: Any, source: str) -> None:
        config = self.registry.invoke_configs().get(function, {})
        retries = int(config.get("MaximumRetryAttempts", 2))
        delays = self.options.async_retry_delays
        for attempt in range(retries + 1):
            result = self.invoke(function, event, source=source)
            if result.ok:
                return
            if attempt < retries:
                time.sleep(delays[min(attempt, len(delays) - 1)])
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        self.log.notice(
            f"{function}: async invocation failed {retries + 1} times"
            + (f", sent to {destination}" if destination else ", event dropped"),
            error=True,
        )
        if destination:
            spec = self.registry.function(function)
            payload = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "requestContext": {
                    "requestId": result.request_id,
                    "functionArn": f"{spec.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": retries + 1,
                },
                "requestPayload": event,
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "responsePayload": result.error,
            }
            send_to_destination(self.cloud, destination, payload, self.log.notice)

    def firehose_put(self, name: str, data: bytes) -> None:
        if self.firehose is None:
            raise RuntimeError(f"no Firehose runtime for delivery stream {name}")
        self.firehose.put(name, data)

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> Runtime:
        """Start pollers and routers for what is deployed. Called again (``reload``), it
        starts what is new, restarts what changed and stops what is gone."""
        # Before any poller: the workers it starts get the Lambda endpoint in their env.
        if self.options.lambda_port is not None and self.lambda_api is None:
            self.lambda_api = LambdaApiServer(
                self, host=self.options.lambda_host, port=self.options.lambda_port
            ).start()
        # key -> what starts its pollers, called only for a key not running yet (partial:
        # binds this iteration's mapping, rule, entry or bus now)
        wanted: dict[str, Callable[[], list[PollerThread]]] = {}
        for mapping in self.registry.mappings():
            if mapping.enabled:
                key = _key(
                    "mapping", mapping.id, mapping.function, mapping.source_arn, mapping.properties
                )
                wanted[key] = functools.partial(self._mapping_pollers, mapping)
        for rule in self.registry.rules():
            if rule.get("state", "ENABLED") != "ENABLED":
                continue
            if rule.get("schedule"):
                wanted[_key("schedule", rule)] = functools.partial(self._scheduler, rule)
            else:
                wanted[_key("rule", rule)] = functools.partial(self._router_pollers, rule)
        for entry in self.registry.subscriptions():
            if entry.get("tap_queue_url"):
                wanted[_key("sns", entry)] = functools.partial(self._sns_pollers, entry)
        if self.options.watch_faults:
            for bus in self.registry.buses():
                wanted[_key("faults", bus)] = functools.partial(self._fault_pollers, bus)
        for key in [k for k in self._running if k not in wanted]:
            for poller in self._running.pop(key):
                poller.stop()
                self.pollers.remove(poller)
        for key, make in wanted.items():
            if key not in self._running:
                self._running[key] = make()
                for poller in self._running[key]:
                    self._spawn(poller)
        self._start_services()
        return self

    def _start_services(self) -> None:
        """REST, Firehose and TTL: one each for the whole registry."""
        if self.options.rest_port is not None:
            routes = routes_of(self.registry)
            if self.rest is not None:
                self.rest.routes = routes
            elif routes:
                self.rest = RestServer(
                    self, routes, host=self.options.rest_host, port=self.options.rest_port
                ).start()
        firehoses = self.registry.firehoses()
        if firehoses and self.firehose is None:
            self.firehose = FirehoseRuntime(
                self.cloud,
                firehoses,
                say=self.log.notice,
                interval_cap=self.options.firehose_interval_cap,
            )
            self._spawn(self.firehose)
        tables = self.registry.ttl_tables()
        if tables and self.sweeper is None:
            self.sweeper = TtlSweeper(
                self.cloud,
                tables,
                self.ttl_ledger,
                self.clock,
                interval=self.options.ttl_interval,
                say=self.log.notice,
            )
            self._spawn(self.sweeper)

    def reload(self, registry: Registry) -> None:
        """Take a new registry (a service was deployed again): the warm workers of every
        redeployed service are stopped, so the next invocation cold-starts with the new
        configuration and the code on disk; pollers follow ``start``'s rules."""
        old = self.registry.deployments
        self.registry = registry
        for key, deployment in registry.deployments.items():
            if old.get(key) != deployment:
                self.restart_workers(deployment.service)
        self.start()

    def restart_workers(self, service: str | None = None) -> None:
        """Stop the warm workers (of one service): the next invocation imports the code
        from disk again."""
        with self._lock:
            for name in list(self.workers):
                if service is None or self.workers[name].spec.service == service:
                    self.workers.pop(name).stop()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until every poller reads its source; False if one did not in time."""
        deadline = time.monotonic() + timeout
        return all(p.ready.wait(max(0.0, deadline - time.monotonic())) for p in self.pollers)

    def _router(self, rule: dict[str, Any]) -> TapRouter:
        return TapRouter(
            self.cloud,
            rule,
            self,
            say=self.log.notice,
            on_delivery=self._on_target,
            chaos=self.options.chaos,
        )

    def _router_pollers(self, rule: dict[str, Any]) -> list[PollerThread]:
        return [self._router(rule)]

    def _sns_pollers(self, entry: dict[str, Any]) -> list[PollerThread]:
        return [SnsTap(self.cloud, entry, self.invoke_async, say=self.log.notice)]

    def _fault_pollers(self, bus: str) -> list[PollerThread]:
        return [FaultWatcher(self.cloud, bus, self.log.fault)]

    def _scheduler(self, rule: dict[str, Any]) -> list[PollerThread]:
        try:
            runner = ScheduleRunner(
                rule,
                self._router(rule),
                self.clock,
                region=self.cloud.region,
                account_id=self.cloud.account_id,
            )
        except ValueError as err:
            self.log.notice(f"rule {rule['logical_id']}: {err}", error=True)
            return []
        return [runner]

    def _on_target(self, rule: str, target: str, detail_type: str, ok: bool, error: str) -> None:
        service = target.split(":")[2] if target.count(":") >= 5 else ""
        if service in ("kinesis", "sqs", "sns", "events", "firehose") or not ok:
            self.log.target(rule, target.rsplit(":", 1)[-1], detail_type, ok, error)

    def _mapping_pollers(self, mapping: EventSourceMapping) -> list[PollerThread]:
        spec = self.registry.function(mapping.function)
        if mapping.kind in ("kinesis", "dynamodb"):
            source: ShardSource = (
                KinesisSource(self.cloud, mapping.source_arn)
                if mapping.kind == "kinesis"
                else DynamoDBStreamSource(self.cloud, mapping.source_arn, self.ttl_ledger)
            )
            return [
                ShardPoller(
                    source,
                    shard_id,
                    mapping,
                    self.invoke,
                    say=self.log.notice,
                    clock=self.clock,
                    function_arn=spec.arn,
                    poll_interval=self.options.poll_interval,
                    idle_interval=self.options.idle_interval,
                    max_retry_delay=self.options.max_retry_delay,
                    chaos=self.options.chaos,
                )
                for shard_id in source.shard_ids()
            ]
        if mapping.kind == "sqs":
            return [
                SqsPoller(
                    self.cloud, mapping, self.invoke, say=self.log.notice, chaos=self.options.chaos
                )
            ]
        self.log.notice(
            f"{mapping.id}: event source {mapping.kind} is not supported locally", error=True
        )
        return []

    def _spawn(self, poller: PollerThread) -> None:
        self.pollers.append(poller)
        poller.start()

    def pollers_of(self, function: str) -> list[PollerThread]:
        name = function_name_of(function)
        return [
            p
            for p in self.pollers
            if getattr(getattr(p, "mapping", None), "function", None) == name
        ]

    def stop(self) -> None:
        """Stop the REST and Lambda servers, every poller and router, then every worker
        process."""
        if self.rest is not None:
            self.rest.stop()
        if self.lambda_api is not None:
            self.lambda_api.stop()
        for poller in self.pollers:
            poller.stopping.set()
        for poller in self.pollers:
            poller.stop()
        self._async.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._stopped = True
            workers, self.workers = list(self.workers.values()), {}
        for worker in workers:
            worker.stop()

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _key(*parts: Any) -> str:
    return json.dumps(parts, sort_keys=True, default=str)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` passes
    (the last value is returned). For scenarios and tests."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
