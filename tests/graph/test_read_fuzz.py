"""Whatever a reply holds, xtap plans it or refuses it with a GraphError: random bytes, random
JSON, partner pages with random values, and nesting far deeper than any Graph type, through
the functions the reader uses (parsing, the page's instances) and on to a plan and its
renderings (how deep canonical form itself goes is in tests/core/test_canonical.py). A handful
of the same replies also go through the CLI and a loopback server, which may only exit 0, 1 or
2, an error being one clean line."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.policy_files import write_policies
from support.stub_servers import PARTNERS, serving, tenant
from support.xtap import examples, run_xtap

from reconciler.core.address import Address
from reconciler.core.clouds import CLOUDS
from reconciler.core.desired import Desired, DesiredInstance
from reconciler.core.live import Live
from reconciler.core.registry import DEFAULT, PARTNER
from reconciler.graph.client import Graph, nesting
from reconciler.graph.errors import GraphError
from reconciler.graph.read import page_instances
from reconciler.plan.planner import make_plan
from reconciler.render.plan import render_json, render_markdown, render_text

LIST_URL = "/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization"
TRUST = {"isMfaAccepted": True, "isCompliantDeviceAccepted": False, "isHybridAzureADJoinedDeviceAccepted": False}
DECLARED = {"tenantId": tenant(1), "inboundTrust": TRUST}

# Text full of what JSON's structure is made of, escaped or not, and characters that are more
# than one byte in UTF-8.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\/ab\n\u00e9\u2200\U0001f600'), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | tricky_text
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
)
# Property names a partner has, and others: random values land where the planner looks.
names = st.sampled_from([*PARTNER.settings, "identitySynchronization", "tenantId", "@odata.type"]) | st.text(
    max_size=12
)
tenant_ids = st.sampled_from([tenant(1), tenant(2), tenant(1).upper(), "not-a-guid", ""]) | json_values
partners = st.builds(
    lambda tenant_id, members: {**members, "tenantId": tenant_id},
    tenant_ids,
    st.dictionaries(names, json_values, max_size=5),
)
# A default's reply: what a partner's `null` inherits, shown beside it in the plan.
defaults = st.dictionaries(st.sampled_from(DEFAULT.settings) | st.text(max_size=12), json_values, max_size=4)
pages = st.builds(lambda items: {"value": items}, st.lists(partners, max_size=3)) | st.dictionaries(
    st.sampled_from(["value", "@odata.nextLink", "error"]) | st.text(max_size=8), json_values, max_size=3
)


@st.composite
def deep_texts(draw: st.DrawFn) -> bytes:
    """A page whose partner holds objects and arrays nested up to far past any limit."""
    depth = draw(st.integers(0, 3000))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")]))
    inner = opener * depth + "null" + closer * depth
    return f'{{"value": [{{"tenantId": "{tenant(1)}", "inboundTrust": {inner}}}]}}'.encode()


replies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    pages.map(lambda page: json.dumps(page).encode()),
    deep_texts(),
)


@pytest.fixture(scope="module")
def graph() -> Iterator[Graph]:
    """A client that parses replies and names requests; it sends nothing."""
    client = Graph("http://127.0.0.1:9/v1.0", CLOUDS["global"], "eyJ.fuzz.token")
    yield client
    asyncio.run(client.__aexit__())


def planned(graph: Graph, content: bytes, default: dict[str, object] | None = None) -> str:
    """The plan of one declared partner against a tenant whose partner list is `content` (and
    whose default settings are `default`), as each renderer writes it: the path a reply takes
    from the reader to the report."""
    request = graph.request_info("GET", LIST_URL)
    page = graph._parsed(request, content)
    if page is None:
        raise graph.not_graph_reply(request, "the reply is empty")
    found = page_instances(graph, request, PARTNER, graph._values(request, page), {})
    live = Live(
        {**found, Address(DEFAULT.name, "default"): default or {}}, ("partner", "identitySynchronization", "default")
    )
    desired = Desired({Address(PARTNER.name, tenant(1)): DesiredInstance(DECLARED, "partners/one.yaml:1")})
    plan = make_plan(desired, live)
    return render_text(plan, False) + render_markdown(plan) + render_json(plan)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(replies, defaults)
def test_any_reply_is_planned_or_refused_as_not_graphs(
    graph: Graph, content: bytes, default: dict[str, object]
) -> None:
    try:
        planned(graph, content, default)
    except GraphError as refused:
        assert refused.method == "GET" and refused.url == LIST_URL


@pytest.mark.parametrize("depth", [31, 32, 33, 500, 100_000])
def test_nesting_is_refused_just_past_the_bound_and_never_crashes(graph: Graph, depth: int) -> None:
    """The page, its value list and the partner are three levels: 29 more inside a property is
    the deepest taken."""
    inner = "[" * (depth - 3) + "]" * (depth - 3)
    content = f'{{"value": [{{"tenantId": "{tenant(1)}", "inboundTrust": {inner}}}]}}'.encode()
    if depth <= 32:
        assert "partner" in planned(graph, content)
    else:
        refused = r"not Graph's reply: (nested deeper than 32 levels|the body is not a JSON object)"
        with pytest.raises(GraphError, match=refused):
            planned(graph, content)


@settings(max_examples=3, deadline=None)
@given(replies)
def test_the_cli_exits_0_1_or_2_with_one_clean_error_line(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder, serving({PARTNERS: (200, "application/json", content)}) as url:
        policies = write_policies(Path(folder) / "policies", [DECLARED])
        run = run_xtap(
            "plan", "--policies", str(policies), "--detailed-exitcode", extra_env={"XTAP_GRAPH_URL": url}, timeout=60
        )
    assert run.code in (0, 1, 2), run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == (run.code == 1), run.stderr


def depth_of(value: object) -> int:
    """The oracle: how deep `value` nests, walked (the values drawn here are shallow)."""
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@settings(max_examples=300)
@given(json_values | st.integers(0, 60).map(lambda depth: nested_lists(depth)), st.booleans(), st.integers(0, 40))
def test_nesting_is_counted_exactly_on_the_text(value: object, ascii_only: bool, limit: int) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nesting(text, limit) == min(depth_of(value), limit + 1)


@pytest.mark.parametrize(
    "text",
    [
        '["[", "]"]',  # taken two by two, the quotes would pair across the strings, not within
        '{"a": "]", "b": [["{"]], "c": ""}',
        '["", "", [""], {"": [[]]}]',  # no string holds a bracket: the shape is the rest
        '[["\\"[", "\\\\"], "]"]',  # escaped quotes and backslashes beside brackets in strings
        '"]]]"',
    ],
)
def test_nesting_is_exact_whether_or_not_a_string_holds_a_bracket(text: str) -> None:
    assert nesting(text.encode(), 32) == depth_of(json.loads(text))


def nested_lists(depth: int) -> object:
    value: object = "]["
    for n in range(depth):
        value = [value] if n % 2 else {"k[": value}
    return value
