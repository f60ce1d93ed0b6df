"""A minimal stream-core Lambda handler module: what bench/pipeline_overhead.py imports cold.

Same shape as a service's listener.py: imports, one task rule, the handler built at import.
"""

from stream_core.events.kinesis import from_kinesis
from stream_core.flavors.task import task
from stream_core.pipelines import stream_handler


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

handler = stream_handler(rules, from_kinesis)
