"""The worker process: Lambda's runtime loop for one function (``python -m
stream_local._bootstrap``). Started by ``worker.Worker``; not for direct use.

Like Lambda's Python runtime it puts the task root (the service folder) first on
``sys.path``, imports the handler module named by ``_HANDLER`` (``src/pkg/listener.handler``
imports ``src.pkg.listener``) once, at start (the init phase), then serves invocations one
at a time. Requests and responses are JSON lines on two pipes whose descriptors are given in
``STREAM_LOCAL_FDS``; the handler's own stdout and stderr stay free for its logs.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The ``context`` argument of a handler, with the attributes Lambda's has."""

    def __init__(self, request_id: str, deadline_ms: float | None) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("STREAM_LOCAL_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        if self._deadline_ms is None:  # debugging: no deadline
            return 900_000
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext({self.function_name!r}, request_id={self.aws_request_id!r})"


def _error(err: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorType": error_type or type(err).__name__,
        "errorMessage": str(err),
        "stackTrace": traceback.format_exception(type(err), err, err.__traceback__)[1:],
    }


def _load_handler() -> Any:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    module_path, _, function_name = os.environ["_HANDLER"].rpartition(".")
    module = importlib.import_module(module_path.replace("/", "."))
    handler = getattr(module, function_name, None)
    if handler is None:
        raise AttributeError(f"module {module_path!r} has no handler {function_name!r}")
    return handler


def main() -> None:
    read_fd, write_fd = (int(fd) for fd in os.environ.pop("STREAM_LOCAL_FDS").split(","))
    requests = os.fdopen(read_fd, "rb")
    responses = os.fdopen(write_fd, "wb", buffering=0)

    # Chaos (stream_local.chaos): off unless the runtime set STREAM_LOCAL_CHAOS. Installed
    # before the handler is imported, so every botocore client it creates is throttled; its
    # counts go back with each response.
    chaos = None
    if os.environ.get("STREAM_LOCAL_CHAOS"):
        from .chaos import ENV, WorkerChaos

        chaos = WorkerChaos.from_environment({ENV: os.environ.pop(ENV)})
        if chaos is not None:
            chaos.install()

    def send(message: dict[str, Any]) -> None:
        if chaos is not None and "id" in message:
            data = chaos.with_counts(message, json.dumps)
        else:
            data = json.dumps(message)
        responses.write(data.encode() + b"\n")

    try:
        handler = _load_handler()
        if chaos is not None:
            handler = chaos.wrap(handler)
        init_error = None
    except Exception as err:
        handler, init_error = None, _error(err, "Runtime.ImportModuleError")
        traceback.print_exc()
    send({"ready": init_error is None, "error": init_error})

    for line in requests:
        request = json.loads(line)
        if init_error is not None:
            send({"id": request["id"], "error": init_error})
            continue
        context = LambdaContext(request["id"], request.get("deadline_ms"))
        try:
            result = handler(request["event"], context)
        except Exception as err:
            traceback.print_exc()
            send({"id": request["id"], "error": _error(err)})
            continue
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        try:
            send({"id": request["id"], "result": result})
        except (TypeError, ValueError) as err:
            send({"id": request["id"], "error": _error(err, "Runtime.MarshalError")})


if __name__ == "__main__":
    main()
