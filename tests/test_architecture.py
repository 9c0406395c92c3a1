"""Guards for the house rules: layers only import downwards, no import cycles, small modules.

`lint-imports` (run by scripts/test.sh) checks the layer contracts in setup.cfg; these tests
pin the rest, so a new cycle or an oversized module fails CI with a plain message.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(
                        child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_sees_a_cycle() -> None:
    class Graph:  # the two methods _cycles uses, over a -> b -> c -> a and d alone
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, m: str) -> set[str]:
            return self.edges.get(m, set())

    assert _cycles(Graph()) == [["a", "b", "c"]]


def test_no_import_cycles_in_daemon_or_scraper() -> None:
    graph = grimp.build_graph("daemon", "scraper")
    assert _cycles(graph) == [], "import cycle(s): break them by moving code down a layer"


def test_scraper_imports_neither_daemon_nor_flask() -> None:
    graph = grimp.build_graph("scraper", "daemon", include_external_packages=True)
    for module in graph.find_children("scraper"):
        imported = graph.find_modules_directly_imported_by(module)
        bad = {m for m in imported if m.split(".")[0] in ("daemon", "flask", "flask_cors")}
        assert not bad, f"{module} imports {bad}: scraper/ stays pure (pages in, Listings out)"


def _python_modules() -> list[Path]:
    return sorted(p for top in ("daemon", "scraper") for p in (REPO / top).rglob("*.py"))


@pytest.mark.parametrize("path", _python_modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (f"{path.relative_to(REPO)} has {lines} lines (limit "
                                f"{MAX_LINES}): split it by what it holds")
