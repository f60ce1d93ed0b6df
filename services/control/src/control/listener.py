"""``listener``: the hub's Kinesis stream -> order submissions and payments, collected."""

from stream_core.events.kinesis import from_kinesis
from stream_core.pipelines import stream_handler

from .rules import listener_rules

handler = stream_handler(listener_rules(), from_kinesis)
