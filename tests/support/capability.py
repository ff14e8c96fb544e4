"""A stand-in resource type keyed by a name within a parent (`NameInParent`), under a partner or
the default: no real type is keyed so yet, and the registry's and the key kinds' tests both show
that one would be an entry like the others."""

from __future__ import annotations

from reconciler.core.keys import NameInParent
from reconciler.core.models import GraphModel
from reconciler.core.registry import ResourceType

TENANT = "0b4f0a2e-1111-4222-8333-944455556666"


class Capability(GraphModel):
    """A stand-in for a collection keyed by a name under a partner or the default."""

    graph_type = "capability"

    name: str
    isEnabled: bool | None = None


CAPABILITY = ResourceType(
    name="capability",
    graph_model=Capability,
    path="{parent}/capabilities/{key}",
    key_kind=NameInParent("name"),
    parents=("partner", "default"),
    nested_key="capabilities",
    create_method="PUT",
)
