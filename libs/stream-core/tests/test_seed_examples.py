"""The examples of the seed README (aws-lambda-stream 1.4.0), with only the import prefix
changed from ``aws_lambda_stream`` to ``stream_core``. Each example's code is kept as the
seed wrote it; the assertions around it are ours.

The seed's filtering example uses the ``collect`` flavor, which arrives with the data
flavors; until then it runs here with ``task`` (the filter fields are the point of it).
"""

import re

from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.task import task
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.utils.opt import DEFAULT_OPTIONS

# --- Quick Start --------------------------------------------------------------------------


def quick_start_module():
    def execute(uow, rule):
        return {
            "handled": True,
            "event_id": uow["event"]["id"],
        }

    rules = [
        {
            "id": "handle-thing-created",
            "flavor": task,
            "event_type": "thing-created",
            "execute": execute,
        },
    ]

    def handler(event, _context):
        StreamPipeline(
            initialize_from(rules),
            DEFAULT_OPTIONS,
        ).assemble(
            from_kinesis(event),
        )

    return rules, handler


def test_quick_start(monkeypatch):
    monkeypatch.delenv("BUS_NAME", raising=False)
    rules, handler = quick_start_module()
    event = to_kinesis_records(
        [{"id": "evt-1", "type": "thing-created", "timestamp": 1548967022000}]
    )
    # No bus is configured: had the rule faulted, publishing its fault would raise.
    handler(event, None)
    collected = []
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(
        from_kinesis(event), on_next=lambda pipeline_id, uow: collected.append(uow)
    )
    assert collected[0]["result"] == {"handled": True, "event_id": "evt-1"}
    assert collected[0]["pipeline"] == "handle-thing-created"


# --- Filtering Events ---------------------------------------------------------------------


def test_filtering_events():
    rule = {
        "id": "collect-thing-created",
        "flavor": task,  # seed: collect
        "event_type": "thing-created",
        "filters": [
            lambda uow, rule: uow["event"]["thing"]["status"] == "active",
        ],
        "execute": lambda uow, rule: True,
    }
    event_types = [
        "thing-created",
        ["thing-created", "thing-updated"],
        re.compile(r"thing-(created|updated)$"),
        lambda uow: uow["event"]["type"].startswith("thing-"),
    ]
    event = to_kinesis_records(
        [
            {"type": "thing-created", "timestamp": 1, "thing": {"status": "active"}},
            {"type": "thing-created", "timestamp": 2, "thing": {"status": "inactive"}},
            {"type": "other-created", "timestamp": 3, "thing": {"status": "active"}},
        ]
    )
    for event_type in event_types:
        collected = []
        StreamPipeline(
            initialize_from([{**rule, "event_type": event_type}]), DEFAULT_OPTIONS,
            concurrency=False,
        ).assemble(from_kinesis(event), on_next=lambda pid, uow, out=collected: out.append(uow))
        assert [u["event"]["timestamp"] for u in collected] == [1], event_type


# --- Task flavor, emitting events ---------------------------------------------------------


def execute(uow, rule):
    return {
        "thing_id": uow["event"]["thing"]["id"],
        "processed": True,
    }


def test_task_with_result_key_and_emit(event_bus):
    rules = [
        {
            "id": "process-thing",
            "flavor": task,
            "event_type": "thing-created",
            "execute": execute,
            "result_key": "task_result",
        },
        {
            "id": "complete-task",
            "flavor": task,
            "event_type": "task-requested",
            "execute": execute,
            "emit": lambda uow, rule, template: {
                **template,
                "type": "task-completed",
                "thing": uow["event"]["thing"],
            },
        },
    ]
    event = to_kinesis_records(
        [
            {"type": "thing-created", "timestamp": 1, "partition_key": "t1", "thing": {"id": "t1"}},
            {"type": "task-requested", "timestamp": 2, "partition_key": "t2",
             "thing": {"id": "t2"}},
        ]
    )
    collected = []
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(
        from_kinesis(event), on_next=lambda pid, uow: collected.append((pid, uow))
    )
    by_rule = dict(collected)
    assert by_rule["process-thing"]["task_result"] == {"thing_id": "t1", "processed": True}
    published = event_bus.events()
    assert [(e["type"], e["thing"], e["partition_key"]) for e in published] == [
        ("task-completed", {"id": "t2"}, "t2")
    ]


def test_emit_a_list(event_bus):
    rules = [
        {
            "id": "complete-task",
            "flavor": task,
            "event_type": "task-requested",
            "execute": execute,
            "emit": lambda uow, rule, template: [
                {
                    **template,
                    "type": "first-event",
                },
                {
                    **template,
                    "type": "second-event",
                },
            ],
        }
    ]
    event = to_kinesis_records(
        [{"type": "task-requested", "timestamp": 1, "partition_key": "t1", "thing": {"id": "t1"}}]
    )
    StreamPipeline(initialize_from(rules), DEFAULT_OPTIONS).assemble(from_kinesis(event))
    assert sorted(e["type"] for e in event_bus.events()) == ["first-event", "second-event"]


# --- Local Testing ------------------------------------------------------------------------

rules = [
    {
        "id": "local-test",
        "flavor": task,
        "event_type": "thing-created",
        "execute": execute,
    },
]


def test_pipeline():
    collected = []
    event = to_kinesis_records([
        {
            "type": "thing-created",
            "timestamp": 1,
            "partition_key": "thing-1",
            "thing": {"id": "thing-1"},
        },
    ])
    StreamPipeline(
        initialize_from(rules),
        DEFAULT_OPTIONS,
        concurrency=False,
    ).assemble(
        from_kinesis(event),
        on_next=lambda pipeline_id, uow: collected.append((pipeline_id, uow)),
    )
    assert len(collected) == 1
