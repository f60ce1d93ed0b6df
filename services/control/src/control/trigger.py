"""``trigger``: the events table's stream -> order-ready, order-payment-timeout."""

from stream_core.events.dynamodb import from_dynamodb
from stream_core.pipelines import stream_handler

from .rules import trigger_rules

handler = stream_handler(trigger_rules(), from_dynamodb)
