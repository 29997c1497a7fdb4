"""The platform package's modules import each other without cycles (grimp reads every import statement,
including imports inside functions, which is how the old program.py <-> eks_stack.py cycle hid)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest


def import_cycles(package: str) -> list[list[str]]:
    """Every group of modules of `package` that import each other in a circle (Tarjan's algorithm)."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowlink[module] = len(index)
        stack.append(module)
        for imported in edges.get(module, []):
            if imported not in index:
                visit(imported)
                lowlink[module] = min(lowlink[module], lowlink[imported])
            elif imported in stack:
                lowlink[module] = min(lowlink[module], index[imported])
        if lowlink[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in edges.get(module, []):
                cycles.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return cycles


def test_the_platform_package_has_no_import_cycle() -> None:
    assert import_cycles("gigstack_platform") == []


@pytest.fixture
def cyclic_package(tmp_path: Path) -> Iterator[str]:
    """A planted defect: the shape of the old cycle, with the back edge inside a function."""
    package = tmp_path / "planted_cycle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "program.py").write_text(
        textwrap.dedent("""
            def main():
                from planted_cycle.eks_stack import build

                build()

            def shared():
                return 1
        """)
    )
    (package / "eks_stack.py").write_text(
        "from planted_cycle.program import shared\n\n\ndef build():\n    shared()\n"
    )
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield "planted_cycle"
    sys.path.remove(str(tmp_path))


def test_a_planted_cycle_is_reported(cyclic_package: str) -> None:
    assert import_cycles(cyclic_package) == [["planted_cycle.eks_stack", "planted_cycle.program"]]
