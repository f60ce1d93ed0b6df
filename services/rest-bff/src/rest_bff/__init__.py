"""rest-bff: the orders REST API (``rest``), its change events (``trigger``) and the
statuses other services decide (``listener``). See the service's README.md."""
