"""Read the live tenant through msgraph-sdk's request builders (raw JSON, every page)."""

from __future__ import annotations

from typing import Any

from kiota_abstractions.request_information import RequestInformation

from reconciler.graph import Graph
from reconciler.live import Live
from reconciler.models import PARTNER_KEY, is_guid


async def read_live(graph: Graph, with_template: bool) -> Live:
    """All partners, and the MTO partner template when policies/ manages it.

    The template is read only when managed: its API exists only in the global cloud
    (GRAPH_FACTS §2), so a national-cloud tenant without a template file must not touch it."""
    policy = graph.client.policies.cross_tenant_access_policy
    request = policy.partners.to_get_request_information()
    partners = {_key(graph, request, partner): partner for partner in await graph.get_all(request)}
    template = None
    if with_template:
        builder = policy.templates.multi_tenant_organization_partner_configuration
        template = await graph.get(builder.to_get_request_information())
    return Live(partners=partners, mto_partner_template=template)


def _key(graph: Graph, request: RequestInformation, partner: dict[str, Any]) -> str:
    """A partner's tenantId, the key everything else trusts: Graph always sends a GUID, so
    anything else is not Graph talking, and must not reach a plan, a URL or a log."""
    tenant_id = partner.get(PARTNER_KEY)
    if not isinstance(tenant_id, str) or not is_guid(tenant_id):
        raise graph.not_graph_reply(request, f"a partner without a GUID {PARTNER_KEY}")
    return tenant_id.lower()
