"""ISO-8601 times of AWS envelopes (SNS ``Timestamp``, S3 ``eventTime``, EventBridge ``time``)
to epoch milliseconds and back.

Integer arithmetic on ``timedelta`` keeps milliseconds exact (no float rounding).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["iso_ms", "ms_iso"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def iso_ms(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 time; a time without an offset is UTC.

    Raises ``ValueError`` (or ``TypeError`` for a non-string), for the caller to turn into a
    malformed record.

    >>> iso_ms("2019-01-31T20:37:02.123Z")
    1548967022123
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def ms_iso(ms: int, *, timespec: str = "milliseconds") -> str:
    """The ISO-8601 UTC time (``...Z``) of epoch milliseconds, as AWS writes it.

    >>> ms_iso(1548967022123)
    '2019-01-31T20:37:02.123Z'
    """
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")
