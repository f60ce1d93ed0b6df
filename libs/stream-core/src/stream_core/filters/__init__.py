"""Filters that decide which UOWs a rule sees: event type, content, dot paths, and the
event-stream hygiene filters for ``rule["filters"]``: ``out_source_is_self`` (loops),
``out_latched`` (a trigger echoing a listener's writes), ``out_skip`` (test events)."""

from .content import compile_filters, filter_on_content
from .dotpath import compile_dict_filter, get_path
from .event_type import EventTypeMatcher, event_type_matcher, filter_on_event_type
from .latch import LATCHED, latched, out_latched, unlatched
from .skip import out_skip, skip_tag
from .source import out_source_is_self, out_source_is_self_for, service_name

__all__ = [
    "LATCHED",
    "EventTypeMatcher",
    "compile_dict_filter",
    "compile_filters",
    "event_type_matcher",
    "filter_on_content",
    "filter_on_event_type",
    "get_path",
    "latched",
    "out_latched",
    "out_skip",
    "out_source_is_self",
    "out_source_is_self_for",
    "service_name",
    "skip_tag",
    "unlatched",
]
