"""The local HTTP servers' common part (the REST APIs, Lambda's Invoke API).

A ``ThreadingHTTPServer`` on a loopback port (``port=0``: any free one, read back after
``start``), each request handed to the subclass's ``handle`` on its own daemon thread, so a
request that never ends does not hold up ``stop``. HTTP/1.1 keep-alive, no request log
(the runtime's live log says what ran).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["LocalHttpServer"]


class LocalHttpServer:
    """Serve ``handle(request)`` on ``host:port`` between ``start()`` and ``stop()``."""

    #: the name of the serving thread (in thread dumps and profiles)
    thread_name = "http"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                server.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, name=self.thread_name, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        """Answer one request (``request.command``, ``.path``, ``.headers``, ``.rfile``)."""
        raise NotImplementedError
