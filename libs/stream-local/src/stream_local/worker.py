"""One warm "container" per function: a long-lived worker process that runs the handler.

>>> worker = Worker(spec, cloud.process_env())                    # doctest: +SKIP
>>> result = worker.invoke({"Records": [...]})                      # doctest: +SKIP
>>> result.ok, result.response                                      # doctest: +SKIP

The worker process (``_bootstrap``) gets an environment built from scratch, not inherited:
the function's own variables, the ones Lambda sets (``AWS_LAMBDA_FUNCTION_NAME``,
``AWS_REGION``, ``LAMBDA_TASK_ROOT`` ...), dummy credentials and ``AWS_ENDPOINT_URL``
pointing at moto. Two functions never share a process, module state or environment.
It imports the handler from the service folder on disk (the code ``sls package`` zipped).

One invocation at a time, like one Lambda container. A timeout kills the process (Lambda's
"Task timed out after N seconds"); the next invocation starts a new one (a cold start).
``interactive=True`` keeps the terminal attached and no deadline, so ``breakpoint()`` works.
``InlineWorker`` runs the handler inside the calling process, for an IDE debugger.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chaos import Chaos

__all__ = ["FunctionSpec", "InlineWorker", "Invocation", "Worker", "lambda_environment"]

LogSink = Callable[[str, str], None]  # (function name, line)
INIT_TIMEOUT = 10.0


@dataclass
class FunctionSpec:
    """A deployed function as the runtime sees it."""

    name: str
    handler: str
    service_dir: str
    arn: str = ""
    runtime: str = "python3.12"
    timeout: float = 3.0
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    service: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    reserved_concurrency: int | None = None  # serverless ``reservedConcurrency``

    @classmethod
    def from_json(cls, data: Mapping[str, Any], service: str = "") -> FunctionSpec:
        return cls(
            name=data["name"],
            handler=data["handler"],
            service_dir=data["service_dir"],
            arn=data.get("arn", ""),
            runtime=data.get("runtime") or "python3.12",
            timeout=float(data.get("timeout") or 3),
            memory=int(data.get("memory") or 128),
            environment=dict(data.get("environment") or {}),
            service=service,
            events=list(data.get("events") or []),
            reserved_concurrency=data.get("reserved_concurrency"),
        )


@dataclass
class Invocation:
    """The outcome of one invocation."""

    function: str
    request_id: str
    response: Any = None
    error: dict[str, Any] | None = None
    duration: float = 0.0
    cold_start: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def error_message(self) -> str:
        if self.error is None:
            return ""
        return f"{self.error.get('errorType')}: {self.error.get('errorMessage')}"


def lambda_environment(spec: FunctionSpec, cloud_env: Mapping[str, str]) -> dict[str, str]:
    """The complete environment of ``spec``'s worker (nothing inherited but PATH/HOME/LANG)."""
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "SYSTEMROOT") if k in os.environ}
    log_group = f"/aws/lambda/{spec.name}"
    lambda_vars = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "LAMBDA_TASK_ROOT": spec.service_dir,
        "_HANDLER": spec.handler,
        "TZ": "UTC",
        "PYTHONUNBUFFERED": "1",
        "STREAM_LOCAL_FUNCTION_ARN": spec.arn,
    }
    # The function's variables, then what Lambda reserves (and the local cloud) on top.
    return {**base, **spec.environment, **cloud_env, **lambda_vars}


class Worker:
    """A warm worker process for one function; ``invoke`` is thread-safe (serialized)."""

    def __init__(
        self,
        spec: FunctionSpec,
        cloud_env: Mapping[str, str],
        *,
        python: str | None = None,
        on_log: LogSink | None = None,
        interactive: bool = False,
        chaos: Chaos | None = None,
        instance: int = 0,
    ) -> None:
        self.spec = spec
        self.env = lambda_environment(spec, cloud_env)
        self.instance = instance  # which of the function's concurrent workers (pool.py)
        self.python = python or sys.executable
        self.on_log = on_log
        self.interactive = interactive
        self.chaos = chaos  # stream_local.chaos: handler errors and throttling in the process
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._lock = threading.Lock()
        self._requests: Any = None
        self._responses: int | None = None
        self._buffer = b""
        self._init_error: dict[str, Any] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def invoke(self, event: Any, *, timeout: float | None = None) -> Invocation:
        """Run the handler on ``event``; never raises for handler errors or timeouts."""
        with self._lock:
            return self._invoke(event, self.spec.timeout if timeout is None else timeout)

    def _invoke(self, event: Any, timeout: float) -> Invocation:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        result = Invocation(self.spec.name, request_id)
        if self.process is None or self.process.poll() is not None:
            result.cold_start = True
            self._start()
        if self._init_error is not None:
            result.error = self._init_error
            self.stop()  # Lambda retries the init on the next invocation
            return result
        deadline = None if self.interactive else time.time() + timeout
        message = {
            "id": request_id,
            "event": event,
            "deadline_ms": None if deadline is None else deadline * 1000,
        }
        exited = False
        try:
            self._requests.write(json.dumps(message, default=str).encode() + b"\n")
            self._requests.flush()
            answer = self._read(None if self.interactive else timeout)
        except (EOFError, OSError):  # the process died (os._exit, a crash, killed)
            answer, exited = None, True
        result.duration = time.monotonic() - started
        if answer is None:
            self.stop()
            if not exited:
                result.timed_out = True
                result.error = {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {timeout:.2f} seconds",
                }
            else:
                result.error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": "the worker process exited during the invocation",
                }
        else:
            if self.chaos is not None and answer.get("chaos"):  # what chaos injected
                self.chaos.record(self.spec.name, answer["chaos"])
            if "error" in answer:
                result.error = answer["error"]
            else:
                result.response = answer.get("result")
        return result

    def _start(self) -> None:
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        env = {**self.env, "STREAM_LOCAL_FDS": f"{request_r},{response_w}"}
        if self.chaos is not None:  # STREAM_LOCAL_CHAOS: this process's generator and rates
            env.update(self.chaos.worker_env(self.spec.name, self.starts + 1, self.instance))
        stdio = None if self.interactive else subprocess.PIPE
        self.process = subprocess.Popen(
            [self.python, "-m", "stream_local._bootstrap"],
            cwd=self.spec.service_dir,
            env=env,
            stdin=None if self.interactive else subprocess.DEVNULL,
            stdout=stdio,
            stderr=stdio,
            pass_fds=(request_r, response_w),
            start_new_session=not self.interactive,
        )
        os.close(request_r)
        os.close(response_w)
        self.starts += 1
        self._requests = os.fdopen(request_w, "wb")
        self._responses = response_r
        self._buffer = b""
        if not self.interactive:
            for stream in (self.process.stdout, self.process.stderr):
                threading.Thread(target=self._pump, args=(stream,), daemon=True).start()
        try:
            ready = self._read(max(INIT_TIMEOUT, self.spec.timeout))
        except (EOFError, OSError):
            ready = None
        if ready is None:
            self.stop()
            self._init_error = {
                "errorType": "Runtime.InitError",
                "errorMessage": "the worker did not finish its init phase",
            }
        else:
            self._init_error = None if ready.get("ready") else ready.get("error")

    def _pump(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.on_log is not None:
                self.on_log(self.spec.name, line)
        stream.close()

    def _read(self, timeout: float | None) -> dict[str, Any] | None:
        """The next JSON line from the worker; None on timeout, EOFError if it exited."""
        deadline = None if timeout is None else time.monotonic() + timeout
        assert self._responses is not None
        while b"\n" not in self._buffer:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._responses], [], [], wait)
            if not ready:
                return None
            chunk = os.read(self._responses, 1 << 16)
            if not chunk:
                raise EOFError("worker exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def stop(self) -> None:
        """Kill the worker process (by its pid) and close the pipes; idempotent."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                if self.interactive:
                    process.kill()
                else:
                    os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        if self._requests is not None:
            try:
                self._requests.close()
            except OSError:
                pass
            self._requests = None
        if self._responses is not None:
            os.close(self._responses)
            self._responses = None


class InlineWorker:
    """Runs the handler in this process (for an IDE debugger): ``os.environ`` and
    ``sys.path`` are set for the call. No isolation and no timeout: one function only."""

    def __init__(self, spec: FunctionSpec, cloud_env: Mapping[str, str], **_: Any) -> None:
        self.spec = spec
        self.env = lambda_environment(spec, cloud_env)
        self.starts = 0
        self._handler: Any = None
        self._lock = threading.Lock()
        self.pid = os.getpid()

    def invoke(self, event: Any, *, timeout: float | None = None) -> Invocation:
        import importlib
        import traceback

        from ._bootstrap import LambdaContext

        with self._lock:
            result = Invocation(self.spec.name, str(uuid.uuid4()), cold_start=self._handler is None)
            saved = dict(os.environ)
            os.environ.update(self.env)
            started = time.monotonic()
            try:
                if self._handler is None:
                    if self.spec.service_dir not in sys.path:
                        sys.path.insert(0, self.spec.service_dir)
                    module_path, _, name = self.spec.handler.rpartition(".")
                    module = importlib.import_module(module_path.replace("/", "."))
                    self._handler = getattr(module, name)
                    self.starts += 1
                context = LambdaContext(result.request_id, None)
                result.response = json.loads(json.dumps(self._handler(event, context)))
            except Exception as err:
                result.error = {
                    "errorType": type(err).__name__,
                    "errorMessage": str(err),
                    "stackTrace": traceback.format_exception(err)[1:],
                }
            finally:
                result.duration = time.monotonic() - started
                os.environ.clear()
                os.environ.update(saved)
            return result

    def stop(self) -> None:
        pass
