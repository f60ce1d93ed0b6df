"""Helpers for connector tests: see the requests a client makes and inject failures with
botocore's event hooks (``provide-client-params``, ``before-call``, ``after-call``).

Each test module asks for the ``hooks`` fixture; a hook answers instead of moto (or edits
moto's answer) only where the test says so, everything else reaches moto unchanged.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

Params = dict[str, Any]


def _event(client: Any, kind: str, operation: str) -> str:
    return f"{kind}.{client.meta.service_model.service_id.hyphenize()}.{operation}"


class Hooks:
    @staticmethod
    def error(code: str, status: int = 400, message: str = "injected") -> Params:
        """A parsed error response, for ``answer``."""
        return {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    @staticmethod
    def requests(client: Any, operation: str) -> list[Params]:
        """The parameters of every ``operation`` request the client makes, in order."""
        sent: list[Params] = []

        def hook(params: Params, context: dict[str, Any], **_: Any) -> None:
            sent.append(params)
            context["test_params"] = params
            context["test_call"] = len(sent)

        client.meta.events.register(_event(client, "provide-client-params", operation), hook)
        return sent

    def answer(
        self, client: Any, operation: str, answer: Callable[[Params, int], Params | None]
    ) -> list[Params]:
        """``answer(params, call_number)`` returns a response to use instead of moto's (its
        ``ResponseMetadata.HTTPStatusCode``, default 200, decides success) or None."""
        sent = self.requests(client, operation)

        def hook(context: dict[str, Any], **_: Any) -> Any:
            parsed = answer(context["test_params"], context["test_call"])
            if parsed is None:
                return None
            status = parsed.setdefault("ResponseMetadata", {}).setdefault("HTTPStatusCode", 200)
            return AWSResponse("http://test", status, {}, None), parsed

        client.meta.events.register(_event(client, "before-call", operation), hook)
        return sent

    def edit(
        self,
        client: Any,
        operation: str,
        before: Callable[[Params, int], None] | None = None,
        after: Callable[[Params, Params, int], None] | None = None,
    ) -> list[Params]:
        """``before(params, n)`` edits a request before moto sees it; ``after(params, parsed,
        n)`` edits moto's parsed response (``params`` as the caller sent them)."""
        sent = self.requests(client, operation)
        if before is not None:

            def edit_request(params: Params, context: dict[str, Any], **_: Any) -> None:
                context["test_original"] = copy.deepcopy(params)
                before(params, context["test_call"])

            client.meta.events.register(
                _event(client, "before-parameter-build", operation), edit_request
            )
        if after is not None:

            def edit_response(parsed: Params, context: dict[str, Any], **_: Any) -> None:
                params = context.get("test_original", context["test_params"])
                after(params, parsed, context["test_call"])

            client.meta.events.register(_event(client, "after-call", operation), edit_response)
        return sent


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()
