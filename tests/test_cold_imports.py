"""What a cold `lambert ask`, `search` and `themes` import: counted, never timed. They answer
from the quote tables alone, so neither SQLAlchemy nor a PostgreSQL driver is among them (a
daily verb reaches the shared state, and opens it then)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import CORPUS, REPO

# The third-party top-level packages (and bot) a quote command imports, all of them.
EXPECTED = ["aiosqlite", "bot", "platformdirs", "tomli"]  # a new database parses the corpus
NEVER = {"sqlalchemy", "alembic", "greenlet", "psycopg", "asyncpg"}

PROBE = """
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
names = {m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names)
names = {n for n in names if not n.startswith("_") and "__mypyc" not in n}
print(json.dumps([code, sorted(names)]), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "command", [["ask", "dpo"], ["ask", "rlhf"], ["search", "reward"], ["themes"]]
)
def test_a_quote_command_imports_no_database_library_beyond_aiosqlite(
    tmp_path: Path, command: list[str]
) -> None:
    argv = [*command, "--db", str(tmp_path / "lambert.db"), "--corpus", str(CORPUS)]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
        check=False,
        timeout=60,
    )
    code, imported = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done.stderr
    assert not NEVER & set(imported)
    assert imported == EXPECTED
