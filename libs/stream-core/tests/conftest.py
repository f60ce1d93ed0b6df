"""Shared fixtures: moto's in-process AWS (``aws``) and a readable bus (``event_bus``)."""

pytest_plugins = ["stream_core.testing.fixtures"]
