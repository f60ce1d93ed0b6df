"""Standard tags stamped on every event a function emits.

Read from the environment when a flavor is built (once per invocation), never per record:

===============  ==================================================================
tag              environment variable
===============  ==================================================================
``account``      ``ACCOUNT_NAME``
``region``       ``AWS_REGION``
``stage``        ``STAGE``
``source``       ``SERVICE``, else ``SERVERLESS_PROJECT`` (the service that emitted it)
``functionname`` ``AWS_LAMBDA_FUNCTION_NAME``
``pipeline``     the rule id
===============  ==================================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["env_tags"]


def env_tags(pipeline: str | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """The standard tags for events emitted by ``pipeline`` in this function."""
    env = os.environ if environ is None else environ
    return {
        "account": env.get("ACCOUNT_NAME", "undefined"),
        "region": env.get("AWS_REGION", "undefined"),
        "stage": env.get("STAGE", "undefined"),
        "source": env.get("SERVICE") or env.get("SERVERLESS_PROJECT") or "undefined",
        "functionname": env.get("AWS_LAMBDA_FUNCTION_NAME", "undefined"),
        "pipeline": pipeline or "undefined",
    }
