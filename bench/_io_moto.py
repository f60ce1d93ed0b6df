"""A ``moto_server`` child process on a free 127.0.0.1 port, for bench/io_bound.py.

Self-contained on purpose (boto3 and moto only): ``.venv-bench`` may predate other dev
packages. ``start()`` waits until the server answers HTTP; ``stop()`` ends that process by
its pid (SIGTERM, then SIGKILL) and is idempotent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (urllib.error.URLError, OSError):
        return False


class MotoServer:
    def __init__(self, log_path: str | os.PathLike[str], host: str = "127.0.0.1") -> None:
        self.host = host
        self.port: int | None = None
        self.log_path = Path(log_path)
        self.process: subprocess.Popen[bytes] | None = None
        script = Path(sys.executable).with_name("moto_server")
        self.command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start on a free port (a port taken meanwhile is retried); the endpoint URL."""
        for _attempt in range(3):
            self.port = free_port(self.host)
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [*self.command, "-H", self.host, "-p", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **DUMMY_CREDENTIALS},
                    start_new_session=True,  # Ctrl-C reaches us; we stop it in order
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.process.poll() is None:
                if _answers(self.endpoint):
                    return self.endpoint
                time.sleep(0.1)
            exited = self.process.poll() is not None
            self.stop()
            if not exited:
                break  # it hangs: another port will not help
        log = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"moto_server did not start on {self.endpoint}:\n{log}")

    def stop(self, timeout: float = 5.0) -> None:
        process, self.process = self.process, None
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

    def process_env(self) -> dict[str, str]:
        """Environment for a worker that must talk to this server only."""
        return {
            **DUMMY_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,  # never a developer's ~/.aws profile
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str) -> Any:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=REGION,
        )
        return session.client(service, endpoint_url=self.endpoint)
