"""Flavors: one module per flavor, each ``rule -> reactivex operator``.

Import a flavor from its module (``from stream_core.flavors.task import task``) or name it
in a rule (``"flavor": "task"``).
"""

from ._spec import FlavorSpec, flavor, spec_of

__all__ = ["FlavorSpec", "flavor", "spec_of"]
