"""serverless.yml agrees with the code: handlers, the table the tests use, the environment
the code reads, the event types the listener's filter lets through."""

import ast
from pathlib import Path

from rest_bff.rules import STATUS_OF

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


def test_the_orders_table_is_the_one_the_tests_use(serverless_yml, orders_table_schema):
    table = serverless_yml["resources"]["Resources"]["OrdersTable"]["Properties"]
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes"):
        assert table[key] == orders_table_schema[key], key
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert serverless_yml["provider"]["environment"]["ENTITY_TABLE_NAME"] == {
        "Ref": "OrdersTable"
    }


def test_the_listener_receives_the_events_its_rules_use(serverless_yml):
    [source] = serverless_yml["functions"]["listener"]["events"]
    [pattern] = source["stream"]["filterPatterns"]
    assert sorted(pattern["data"]["type"]) == sorted(STATUS_OF)
