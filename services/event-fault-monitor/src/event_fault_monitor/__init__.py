"""event-fault-monitor: fault events stored in S3, indexed in DynamoDB, listed and resubmitted.

Modules: ``keys`` (what identifies a fault and how its record is re-delivered), ``store``
(S3 + DynamoDB), ``rules`` and ``listener`` (the Lambda function), ``faults`` (the command).
"""
