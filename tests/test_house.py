"""The house: imports point the way the walk goes, and every module says in one line what it holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    """The modules a file imports, at any depth (lazy imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


DIRECTIONS = [
    ("moderation", ("training", "workers")),
    ("moderation/reading", ("flask", "rq", "sqlalchemy", "moderation.store", "moderation.api", "moderation.console")),
    ("moderation/decide", ("flask", "rq", "sqlalchemy", "moderation.store", "moderation.api", "moderation.console")),
    ("moderation/model", ("flask", "rq", "sqlalchemy", "moderation.store", "moderation.api", "moderation.console")),
    ("moderation/store", ("flask", "rq", "moderation.api", "moderation.console")),
    ("moderation/api", ("moderation.console",)),
]
"""(folder, what no module in it may import): the directions of the house (docs: architecture)."""

ENTRY_POINT = ROOT / "moderation" / "cli.py"
"""The command line assembles web, workers and the ops group (lazily, per subcommand): exempt from the first row."""


@pytest.mark.parametrize(("folder", "forbidden"), DIRECTIONS, ids=[d[0] for d in DIRECTIONS])
def test_imports_point_the_way_the_walk_goes(folder: str, forbidden: tuple[str, ...]) -> None:
    """The web and workers never carry training code; the domain knows no Flask, RQ or SQL; storage knows no
    Flask; the site API does not reach into the console."""
    wrong = {f"{p.relative_to(ROOT)} imports {m}" for p in (ROOT / folder).rglob("*.py") if p != ENTRY_POINT
             for m in _imports(p) if any(m == f or m.startswith(f + ".") for f in forbidden)}
    assert wrong == set()


def test_every_module_says_what_it_holds() -> None:
    """Each module of the service, workers and training opens with a docstring."""
    silent = [str(p.relative_to(ROOT)) for folder in ("moderation", "workers", "training")
              for p in sorted((ROOT / folder).rglob("*.py")) if "migrations" not in p.parts
              and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert silent == []
