"""The analysis stage's shape: the fact schema stands apart from derivation, one function per
fact kind, market measures in their own module, and no module too long to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import icorules
from icorules.analysis import derive
from icorules.analysis.facts import FACT_KINDS
from icorules.analysis.graph import build_graph, linked_groups
from icorules.inputs.market import load_market
from tests.proposals import clean_market, clean_proposal

SRC = Path(icorules.__file__).resolve().parent
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _icorules_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("icorules"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("icorules")}
    return found


def test_the_fact_schema_imports_only_the_codes() -> None:
    """Rule tooling reads the vocabulary without the proposal model, market or graph."""
    assert _icorules_imports(SRC / "analysis" / "facts.py") == {
        "icorules.inputs.codes",
        "icorules.analysis.fact_base",
    }
    assert _icorules_imports(SRC / "analysis" / "fact_base.py") == set()


def test_market_measures_do_not_need_the_graph() -> None:
    assert not any(
        m.startswith("icorules.analysis") for m in _icorules_imports(SRC / "analysis/markets.py")
    )


@pytest.mark.parametrize("package", ["inputs", "analysis"])
def test_no_module_is_over_450_lines(package: str) -> None:
    for path in sorted((SRC / package).glob("*.py")):
        lines = len(path.read_text().splitlines())
        assert lines <= 450, f"{path.name} has {lines} lines"


KIND_FUNCTIONS = {
    "proposal": "proposal_fact",
    "partner": "partner_facts",
    "agreement": "agreement_facts",
    "pct_area": "pct_area_facts",
    "service_line": "service_line_facts",
    "market": "market_facts",
    "commitment": "commitment_facts",
}


def _graphs() -> list[object]:
    with_market = build_graph(icorules.load_proposal(clean_proposal()), load_market(clean_market()))
    examples = [
        build_graph(icorules.load_proposal(path)) for path in sorted(EXAMPLES.glob("*.json"))[:6]
    ]
    return [with_market, *examples]


def test_one_function_per_fact_kind_and_derive_facts_is_them_in_order() -> None:
    derived_kinds = {kind for kind, cls in FACT_KINDS.items() if not cls.derived}
    assert set(KIND_FUNCTIONS) == derived_kinds
    for partners in _graphs():
        pieces = []
        for kind, name in KIND_FUNCTIONS.items():
            made = getattr(derive, name)(partners)
            made = [made] if kind == "proposal" else list(made)
            assert all(f.kind == kind for f in made), name
            pieces += made
        assert pieces == derive.derive_facts(partners)  # type: ignore[arg-type]


def test_market_facts_need_a_market() -> None:
    partners = build_graph(icorules.load_proposal(clean_proposal()))
    assert list(derive.market_facts(partners)) == []
    assert derive.proposal_fact(partners).has_market_data is False


EXAMPLE_BIDS = sorted(
    p
    for p in Path(__file__).parent.parent.joinpath("examples").rglob("*")
    if p.suffix in (".json", ".yaml") and "markets" not in p.parts and ".test." not in p.name
)


@pytest.mark.parametrize("path", EXAMPLE_BIDS, ids=lambda p: p.name)
def test_components_are_networkx_connected_components(path: Path) -> None:
    """The union-find of partners (through agreements and units) finds what networkx does, in
    order: largest first, then by first id."""
    import networkx as nx

    proposal = icorules.load_proposal(path)
    links = nx.Graph()
    links.add_nodes_from(o.id for o in proposal.everyone())
    for agreement in proposal.agreements:
        links.add_edges_from((agreement.parties[0], p) for p in agreement.parties[1:])
    links.add_edges_from((o.id, o.part_of) for o in proposal.everyone() if o.part_of)
    partners = {o.id for o in proposal.organisations}
    expected = [frozenset(c & partners) for c in nx.connected_components(links) if c & partners]
    expected.sort(key=lambda c: (-len(c), sorted(c)))
    assert build_graph(proposal).components == expected


_NAMES = st.sampled_from([f"o{i}" for i in range(12)])


@settings(max_examples=300, deadline=None)
@given(
    links=st.lists(st.lists(_NAMES, min_size=1, max_size=6), max_size=10),
    ids=st.lists(_NAMES, unique=True, max_size=12),
)
def test_linked_groups_are_networkx_connected_components(
    links: list[list[str]], ids: list[str]
) -> None:
    """Grouping by renaming the smaller group into the larger finds what networkx does, in the
    same order, whatever the links (repeated names, chains that join groups late, names beyond
    the ids)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(ids)
    for link in links:
        graph.add_nodes_from(link)
        graph.add_edges_from((link[0], name) for name in link[1:])
    wanted = set(ids)
    expected = [frozenset(c & wanted) for c in nx.connected_components(graph) if c & wanted]
    expected.sort(key=lambda c: (-len(c), sorted(c)))
    assert linked_groups(links, ids) == expected
