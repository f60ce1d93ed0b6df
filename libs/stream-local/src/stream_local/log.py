"""The live log of the runtime: one line per delivery (source -> function -> result), the
functions' own output, and notices; faults and errors in red.

>>> log = DeliveryLog(stream=None)       # keep the lines in memory only (tests)
>>> log.notice("hello"); log.lines[-1]
'hello'
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import IO, Any

from .worker import Invocation

__all__ = ["Delivery", "DeliveryLog"]

RED, YELLOW, GREEN, DIM, BOLD, RESET = (
    "\033[31m",
    "\033[33m",
    "\033[32m",
    "\033[2m",
    "\033[1m",
    "\033[0m",
)


@dataclass
class Delivery:
    """One invocation of a function by an event source (or a target delivery)."""

    at: float
    source: str
    function: str
    records: int
    ok: bool
    summary: str
    invocation: Invocation | None = None


class DeliveryLog:
    """Prints deliveries as they happen and keeps the last ``keep`` in ``deliveries``."""

    def __init__(
        self,
        stream: IO[str] | None = sys.stderr,
        *,
        color: bool | None = None,
        show_function_output: bool = True,
        keep: int = 10_000,
    ) -> None:
        self.stream = stream
        if color is None:
            color = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
            color = color and "NO_COLOR" not in os.environ
        self.color = color
        self.show_function_output = show_function_output
        self.deliveries: deque[Delivery] = deque(maxlen=keep)
        self.lines: deque[str] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def _paint(self, text: str, color: str) -> str:
        return f"{color}{text}{RESET}" if self.color else text

    def _write(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)
            if self.stream is not None:
                stamp = time.strftime("%H:%M:%S")
                self.stream.write(f"{self._paint(stamp, DIM)} {line}\n")
                self.stream.flush()

    def invocation(self, source: str, function: str, records: int, result: Invocation) -> None:
        """A function invoked by ``source`` with ``records`` records."""
        response = result.response if isinstance(result.response, dict) else {}
        failures = response.get("batchItemFailures") or []
        if not result.ok:
            summary = self._paint(f"✗ {result.error_message}", RED)
        elif failures:
            summary = self._paint(f"partial: {len(failures)} item failure(s) reported", YELLOW)
        else:
            summary = self._paint("ok", GREEN)
        cold = " (cold start)" if result.cold_start else ""
        count = f"{records} record{'s' if records != 1 else ''}" if records else "event"
        line = (
            f"{source} → {self._paint(function, BOLD)}  {count}  {summary}  "
            f"{result.duration * 1000:.0f} ms{cold}"
        )
        self.deliveries.append(
            Delivery(
                time.time(), source, function, records, result.ok and not failures, summary, result
            )
        )
        self._write(line)

    def target(self, rule: str, target: str, detail_type: str, ok: bool, error: str) -> None:
        """An event delivered by a rule to a target stream-local implements."""
        summary = self._paint("ok", GREEN) if ok else self._paint(f"✗ {error}", RED)
        self.deliveries.append(Delivery(time.time(), rule, target, 1, ok, summary))
        self._write(f"{rule} → {target}  {detail_type}  {summary}")

    def fault(self, text: str) -> None:
        self._write(self._paint(f"fault: {text}", RED))

    def function_output(self, function: str, line: str) -> None:
        if self.show_function_output:
            self._write(self._paint(f"[{function}] {line}", DIM))
        else:
            with self._lock:
                self.lines.append(f"[{function}] {line}")

    def notice(self, text: str, *, error: bool = False) -> None:
        self._write(self._paint(text, RED) if error else text)

    def for_function(self, function: str) -> list[Delivery]:
        return [d for d in list(self.deliveries) if d.function == function]

    def __call__(self, text: str, *args: Any) -> None:
        self.notice(text % args if args else text)
