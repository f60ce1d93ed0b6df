import re

from stream_core.filters import compile_dict_filter, filter_on_content, get_path
from stream_core.utils.filters import on_content, on_event_type

UOW = {
    "event": {
        "type": "alarm",
        "detail": {"state": {"value": "ALARM"}, "previousState": {"value": "OK"}},
        "items": [{"id": 1}, {"id": 2}],
    }
}


def test_get_path_walks_dicts_and_lists():
    assert get_path(UOW, "event.detail.state.value") == "ALARM"
    assert get_path(UOW, "event.items.1.id") == 2
    assert get_path(UOW, "event.items.-1.id") == 2
    assert get_path(UOW, "event.items.5.id", "none") == "none"
    assert get_path(UOW, "event.missing.deeper") is None


def test_dict_filter_matches_all_paths():
    matches = compile_dict_filter(
        {"detail.state.value": "ALARM", "detail.previousState.value": "OK"}
    )
    assert matches(UOW["event"]) is True
    assert compile_dict_filter({"detail.state.value": "OK"})(UOW["event"]) is False
    assert compile_dict_filter({"detail.nope": None})(UOW["event"]) is False  # absent != None
    assert compile_dict_filter({"items.0.id": lambda v: v < 2})(UOW["event"]) is True


def test_on_content_mixes_callables_and_dict_filters():
    rule = {
        "id": "r",
        "filters": [
            {"detail.state.value": "ALARM"},
            lambda uow, rule: rule["id"] == "r" and uow["event"]["type"] == "alarm",
        ],
    }
    assert on_content(rule)(UOW) is True
    assert filter_on_content(rule, UOW) is True
    rule["filters"].append(lambda uow, rule: False)
    assert on_content(rule)(UOW) is False


def test_on_event_type_forms():
    assert on_event_type({"event_type": "alarm"})(UOW)
    assert not on_event_type({"event_type": "other"})(UOW)
    assert on_event_type({"event_type": ["other", "alarm"]})(UOW)
    assert on_event_type({"event_type": re.compile("^ala")})(UOW)
    assert not on_event_type({"event_type": lambda uow: False})(UOW)
    assert on_event_type({})(UOW)  # no event_type: everything
