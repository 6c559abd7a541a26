"""The suite helps itself: shared helpers live in tests/support (or tests/fakes, tests/shim),
and no test module imports another, so moving or deleting one test never breaks the rest."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_test_modules(tree: ast.Module) -> list[str]:
    """Every `tests.test_*` module `tree` imports, in any form."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("tests.test_")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("tests.test_"):
                found.append(node.module)
            elif node.module == "tests":
                found += [f"tests.{a.name}" for a in node.names if a.name.startswith("test_")]
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(TESTS.parent)): names
        for path in sorted(TESTS.rglob("*.py"))
        if (names := imported_test_modules(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}, "move what is shared into tests/support/"


def test_the_check_sees_every_form_of_import() -> None:
    tree = ast.parse(
        "import tests.test_a\nfrom tests.test_b import x\nfrom tests import test_c, support\n"
        "from tests.support.paths import CORPUS\n"
    )
    assert imported_test_modules(tree) == ["tests.test_a", "tests.test_b", "tests.test_c"]
