"""The dependency rules of docs/architecture.md, as behaviour: no import circles anywhere, and a
process that only fetches tickets never loads the web board. (`lint-imports` in `make lint`
checks the layer and forbidden-import contracts of pyproject.toml.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def strongly_connected(graph: grimp.ImportGraph, modules: set[str]) -> list[set[str]]:
    """Tarjan's algorithm over the project's modules; components of more than one are circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            found.append(component)

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_app_or_watcher_imports_itself_through_others():
    graph = grimp.build_graph("app", "watcher")
    modules = {m for m in graph.modules if m.split(".")[0] in ("app", "watcher")}
    circles = [sorted(c) for c in strongly_connected(graph, modules) if len(c) > 1]
    assert circles == []


def test_running_the_watcher_never_loads_the_web_board(tmp_path):
    """`python -m watcher` (the simulated helpdesk, one cycle, and the Freshservice source's
    modules) runs without Quart, hypercorn, prometheus-client, watchfiles or the board's code."""
    script = f"""
import sys
import watcher.freshservice
from watcher.__main__ import main
code = main(["--source", "demo", "--once", "--tickets-dir", {str(tmp_path / "t")!r},
             "--mappings-dir", {str(tmp_path / "m")!r}])
heavy = ("quart", "hypercorn", "prometheus_client", "watchfiles", "app.web", "app.live",
         "app.stream", "app.rules")
loaded = sorted(m for m in sys.modules if m.startswith(heavy))
print("exit", code, "loaded", loaded)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "exit 0 loaded []"
    assert (tmp_path / "t" / ".watcher.json").is_file()
