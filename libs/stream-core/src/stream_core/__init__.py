"""stream-core: declarative rules over ReactiveX pipelines for AWS Lambda stream processing.

The package root stays light on purpose: import what you need from its subpackages
(``stream_core.pipelines``, ``stream_core.events.kinesis``, ``stream_core.flavors.task`` ...).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
