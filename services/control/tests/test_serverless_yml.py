"""serverless.yml agrees with the code: handlers, the events table's shape (the one
stream-core's testing tables create), the settings, the listener's filter."""

import ast
from pathlib import Path

from control.rules import CORRELATED

SERVICE = Path(__file__).resolve().parents[1]


def test_handlers_exist(serverless_yml):
    # read, not imported: importing a handler module is its cold start (see cold_start)
    for function in serverless_yml["functions"].values():
        path, attribute = function["handler"].rsplit(".", 1)
        tree = ast.parse((SERVICE / f"{path}.py").read_text())
        names = {t.id for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
        names |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert attribute in names, function["handler"]


def test_the_events_table_has_the_shape_of_stream_cores_events_table(serverless_yml):
    table = serverless_yml["resources"]["Resources"]["EventsTable"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "DataIndex"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["data", "sk"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


def test_settings_and_table_reach_the_functions(serverless_yml):
    environment = serverless_yml["provider"]["environment"]
    assert environment["EVENT_TABLE_NAME"] == {"Ref": "EventsTable"}
    assert {"PAYMENT_TIMEOUT_SECONDS", "EVENT_TTL_DAYS"} <= set(environment)


def test_the_listener_receives_the_events_its_rules_use(serverless_yml):
    [source] = serverless_yml["functions"]["listener"]["events"]
    [pattern] = source["stream"]["filterPatterns"]
    assert sorted(pattern["data"]["type"]) == sorted(CORRELATED)
