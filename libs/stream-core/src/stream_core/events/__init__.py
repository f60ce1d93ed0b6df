"""AWS trigger events -> units of work (UOWs), one module per source, each with record
builders for tests.

===========================  ==================================================================
module                       functions
===========================  ==================================================================
``events.kinesis``           ``from_kinesis``; ``to_kinesis_records``
``events.dynamodb``          ``from_dynamodb`` (change events with ``raw.new/old``);
                             ``to_dynamodb_records``; ``ImageDeserializer``
``events.sqs``               ``from_sqs`` (body = event JSON), ``from_sqs_sns`` (body = SNS
                             envelope); ``to_sqs_records``, ``to_sqs_sns_records``
``events.sns``               ``from_sns``; ``to_sns_records``
``events.s3``                ``from_s3``, ``from_sqs_s3``, ``from_sns_s3``, ``from_sqs_sns_s3``
                             (S3 notifications, direct or wrapped); ``to_s3_records`` ...
``events.eventbridge``       ``from_eventbridge`` (a rule invokes the Lambda),
                             ``from_sqs_eventbridge`` (a rule targets the queue);
                             ``to_eventbridge_event``, ``to_sqs_eventbridge_records``
===========================  ==================================================================

Every ``from_*`` returns a list of UOWs ``{"record": <top-level record>, "event": {...}}``
ordered by event timestamp (stable, so one partition key keeps its order). A record that
cannot be decoded becomes ``{"record": ..., "event": None, "malformed":
MalformedRecordError}`` and is reported as a fault; a source never raises for a bad record,
only for a trigger event of the wrong shape (``ConfigurationError``).

The submodules are not imported here, so a Lambda loads only the source it uses::

    from stream_core.events.kinesis import from_kinesis
"""

__all__: list[str] = []
