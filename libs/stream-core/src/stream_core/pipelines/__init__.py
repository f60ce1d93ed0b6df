"""Pipelines: checking rules, running them over a batch, and the Lambda handler factory.

>>> from stream_core.pipelines import StreamPipeline, initialize_from, stream_handler
"""

from .handler import stream_handler
from .rules import Pipeline, initialize_from
from .stream import BatchResult, StreamPipeline

__all__ = ["BatchResult", "Pipeline", "StreamPipeline", "initialize_from", "stream_handler"]
