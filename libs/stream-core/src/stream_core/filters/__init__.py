"""Filters that decide which UOWs a rule sees: event type, content, dot paths."""

from .content import compile_filters, filter_on_content
from .dotpath import compile_dict_filter, get_path
from .event_type import EventTypeMatcher, event_type_matcher, filter_on_event_type

__all__ = [
    "EventTypeMatcher",
    "compile_dict_filter",
    "compile_filters",
    "event_type_matcher",
    "filter_on_content",
    "filter_on_event_type",
    "get_path",
]
