"""The same handler module written with aws-lambda-stream 1.4.0.

1.4.0 has no handler factory: this is its README's "Lambda Handler Shape" (a Powertools
``Logger`` in the options, as ``stream_handler`` gives stream-core's handler by default).
"""

from aws_lambda_powertools import Logger
from aws_lambda_stream.events.kinesis import from_kinesis
from aws_lambda_stream.flavors.task import task
from aws_lambda_stream.pipelines import StreamPipeline, initialize_from
from aws_lambda_stream.utils.opt import DEFAULT_OPTIONS

logger = Logger()


def execute(uow, rule):
    thing = uow["event"]["thing"]
    return {"thing_id": thing["id"], "total": thing["quantity"] * thing["price"]}


rules = [
    {
        "id": "handle-thing-created",
        "flavor": task,
        "event_type": "thing-created",
        "execute": execute,
    },
]


def handler(event, context):
    options = {**DEFAULT_OPTIONS, "logger": logger}
    StreamPipeline(initialize_from(rules), options).assemble(from_kinesis(event))
