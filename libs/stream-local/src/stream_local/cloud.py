"""The local cloud: a ``moto_server`` process on a loopback port, and clients for it.

>>> with MotoServer() as cloud:                         # doctest: +SKIP
...     cloud.client("sqs").list_queues()

``MotoServer`` starts ``python -m stream_local.moto_entry -H 127.0.0.1 -p PORT`` (moto's
server with stream-local's fixes for concurrent writes and event patterns, see
``moto_entry.py``) on a free port, waits until it answers HTTP and stops it by its pid.
``Cloud.attach(endpoint)`` uses a server that is already running (``--endpoint``);
``Cloud.patches`` says whether it has those fixes (``None``: a plain ``moto_server``).
Clients use dummy credentials and never read ``~/.aws``; ``Cloud.process_env()`` is the same
setup for child processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ACCOUNT_ID",
    "DUMMY_CREDENTIALS",
    "REGION",
    "UNPATCHED_WARNING",
    "Cloud",
    "CloudError",
    "MotoServer",
    "server_patches",
]

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


# moto_entry.STATUS_PATH, repeated so that clients need not import moto.
_STATUS_PATH = "/_stream_local/moto"
_SRC = Path(__file__).resolve().parent.parent  # the folder holding the stream_local package

UNPATCHED_WARNING = (
    "{endpoint} is a plain moto_server, not one stream-local started: concurrent Kinesis "
    "PutRecord(s) to one shard can lose records, concurrent DynamoDB writes can repeat "
    "stream sequence numbers and lose updates, SQS can lose a message sent during a "
    "DeleteMessage, and rules do not match into arrays of objects. Start it as "
    "`python -m stream_local.moto_entry -H HOST -p PORT` instead (see the README)."
)


class CloudError(RuntimeError):
    """moto_server could not be started or does not answer."""


@dataclass
class Cloud:
    """A moto endpoint and the boto3 clients that talk to it (thread-safe, cached)."""

    endpoint: str
    region: str = REGION
    account_id: str = ACCOUNT_ID
    #: the fixes of ``moto_entry`` the server runs with; None for a plain moto_server
    patches: tuple[str, ...] | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def attach(cls, endpoint: str, *, region: str = REGION, timeout: float = 5.0) -> Cloud:
        """Use a moto server that is already running at ``endpoint``."""
        endpoint = endpoint.rstrip("/")
        if not wait_until_answering(endpoint, timeout):
            raise CloudError(f"no moto server answers at {endpoint}")
        return cls(endpoint, region, patches=server_patches(endpoint))

    def client(self, service: str) -> Any:
        """The shared boto3 client for ``service`` (boto3 clients are thread-safe)."""
        client = self._clients.get(service)
        if client is None:
            with self._lock:
                client = self._clients.get(service)
                if client is None:
                    client = self._clients[service] = self._new_client(service)
        return client

    def _new_client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=self.region,
        )
        config = Config(
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=50,
            connect_timeout=5,
            read_timeout=60,
        )
        return session.client(service, endpoint_url=self.endpoint, config=config)

    def process_env(self) -> dict[str, str]:
        """Environment for a child process that must talk to this cloud only."""
        return {
            **DUMMY_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            # Never read the developer's ~/.aws: no profile may point elsewhere.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"


class MotoServer:
    """A moto server child process on a free loopback port.

    It runs ``python -m stream_local.moto_entry``: moto's server with stream-local's fixes.
    ``start()`` returns a ``Cloud``; ``stop()`` terminates the process by its pid (SIGTERM,
    then SIGKILL). The server's own log goes to ``log_path``. ``args`` are added to the
    command line (``["--switch-interval", "1e-5"]`` in the race tests).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: str | os.PathLike[str] | None = None,
        python: str | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.python = python or sys.executable
        self.log_path = Path(log_path) if log_path else None
        self.args = list(args or [])
        self.process: subprocess.Popen[bytes] | None = None
        self.cloud: Cloud | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise CloudError("moto server not started")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> Cloud:
        """Start the server and wait until it answers; a taken port is retried."""
        if self.process is not None:
            raise CloudError(f"moto server already running (pid {self.pid})")
        fixed_port = self.port
        for _attempt in range(3):
            self.port = fixed_port or free_port(self.host)
            self._spawn()
            if self._wait(timeout):
                patches = server_patches(self.endpoint, timeout=10)
                self.cloud = Cloud(self.endpoint, patches=patches)
                if self.cloud.patches is None:
                    self.stop()
                    raise CloudError(f"{self.endpoint} answers without stream-local's fixes")
                return self.cloud
            code = self.process.poll() if self.process else None
            self.stop()
            if fixed_port is not None or code is None:
                break  # a fixed port, or a server that hangs: retrying will not help
        raise CloudError(f"moto server did not start on {self.endpoint}; see {self.log_path}")

    def _spawn(self) -> None:
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        env = {**os.environ, **DUMMY_CREDENTIALS, "MOTO_PORT": str(self.port)}
        if self.python != sys.executable:  # another interpreter must still find stream_local
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_SRC), env.get("PYTHONPATH")]))
        command = [self.python, "-m", "stream_local.moto_entry", "-H", self.host]
        command += ["-p", str(self.port), *self.args]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                # Its own session: Ctrl-C in a terminal reaches us, and we stop it in order.
                start_new_session=True,
            )

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            if wait_until_answering(self.endpoint, 0.2):
                return True
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server by its pid; idempotent."""
        process, self.process = self.process, None
        self.cloud = None
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Cloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def server_patches(endpoint: str, timeout: float = 2.0) -> tuple[str, ...] | None:
    """The fixes the moto server at ``endpoint`` runs with (``moto_entry``); None when it
    is a plain ``moto_server`` (or does not say)."""
    try:
        with urllib.request.urlopen(f"{endpoint}{_STATUS_PATH}", timeout=timeout) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError):
        return None  # urllib's HTTPError (a 404 from plain moto) is an OSError
    if not isinstance(answer, dict) or answer.get("server") != "stream-local":
        return None
    return tuple(str(name) for name in answer.get("patches") or ())


def wait_until_answering(endpoint: str, timeout: float) -> bool:
    """True once ``endpoint`` answers HTTP (moto's read-only dashboard page)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as _:
                return True
        except urllib.error.HTTPError:
            return True  # it answered
        except (urllib.error.URLError, OSError):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
