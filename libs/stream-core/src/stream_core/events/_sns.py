"""SNS notifications, shared by the SNS, SQS and S3 sources: reading the message of a
notification and building one for tests.

A notification reaches a Lambda in two forms with the same fields: the ``Sns`` object of a
Lambda SNS record, and the JSON envelope SNS writes as the body of an SQS message (unless the
subscription uses raw message delivery, in which case the body is the message itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._time import ms_iso

__all__ = ["message_of", "notification"]

_TOPIC_ARN = "arn:aws:sns:us-west-2:123456789012:test-topic"


def message_of(notification: Any, *, envelope: bool) -> str:
    """The ``Message`` string of an SNS notification.

    With ``envelope=True`` (an SQS body) the object must say ``"Type": "Notification"``, which
    tells an SNS envelope from any other JSON body. Raises ``ValueError`` otherwise.
    """
    if type(notification) is not dict:
        raise ValueError(f"an SNS notification is an object, not a {type(notification).__name__}")
    if envelope and notification.get("Type") != "Notification":
        raise ValueError("not an SNS notification (no 'Type': 'Notification')")
    message = notification.get("Message")
    if type(message) is not str:
        raise ValueError("SNS notification has no 'Message' string")
    return message


def notification(
    message: str,
    *,
    index: int,
    timestamp_ms: int,
    topic_arn: str = _TOPIC_ARN,
    subject: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    lambda_record: bool = False,
) -> dict[str, Any]:
    """An SNS notification carrying ``message``, as SNS delivers it.

    ``lambda_record=True`` spells the URL fields the way a Lambda SNS record does
    (``SigningCertUrl``); the SQS envelope spells them ``SigningCertURL``.
    """
    url = "Url" if lambda_record else "URL"
    return {
        "Type": "Notification",
        "MessageId": f"95df01b4-ee98-5cb9-9903-{index:012d}",
        "TopicArn": topic_arn,
        "Subject": subject,
        "Message": message,
        "Timestamp": ms_iso(timestamp_ms),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        f"SigningCert{url}": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService.pem",
        f"Unsubscribe{url}": (
            "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={topic_arn}:0000"
        ),
        "MessageAttributes": dict(attributes or {}),
    }
