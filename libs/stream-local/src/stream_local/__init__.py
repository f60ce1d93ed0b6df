"""stream-local: run stream-core services on a local moto server, with Lambda's semantics.

Dev-only, never deployed. ``stream-local up`` starts ``moto_server``, packages and deploys
every service from its own ``serverless.yml`` and delivers events the way AWS would.
"""

__version__ = "0.1.0"
