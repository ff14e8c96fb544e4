"""Read the live tenant through msgraph-sdk's request builders (raw JSON, every page)."""

from __future__ import annotations

from reconciler.graph import Graph
from reconciler.live import Live


async def read_live(graph: Graph, with_template: bool) -> Live:
    """All partners, and the MTO partner template when policies/ manages it.

    The template is read only when managed: its API exists only in the global cloud
    (GRAPH_FACTS §2), so a national-cloud tenant without a template file must not touch it."""
    policy = graph.client.policies.cross_tenant_access_policy
    partners = await graph.get_all(policy.partners.to_get_request_information())
    template = None
    if with_template:
        builder = policy.templates.multi_tenant_organization_partner_configuration
        template = await graph.get(builder.to_get_request_information())
    return Live(partners={p["tenantId"].lower(): p for p in partners}, mto_partner_template=template)
