"""event-lake-s3: every event of the hub's bus in S3 (Firehose), and a replay command.

Modules: ``lake`` (where events are in the bucket and how to read them back) and ``replay``
(the command: back onto the bus, or into one function).
"""
