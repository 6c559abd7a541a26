"""What the benchmark families share: the run's size, a scratch folder, generated corpora."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings, default_corpus_path, load_settings
from bot.runtime import open_core
from tests.support.corpus_gen import write_corpus

REAL = 0  # the corpus size that means "the real corpus, data/lambert.toml"


@dataclass
class Bench:
    """One run: `quick` picks small sizes; corpora and loaded databases are made once."""

    workdir: Path
    quick: bool
    _corpora: dict[int, Path] = field(default_factory=dict)
    _databases: dict[int, Path] = field(default_factory=dict)

    @property
    def big(self) -> int:
        """The largest synthetic corpus of this run (100,000; 10,000 with --quick)."""
        return 10_000 if self.quick else 100_000

    def sizes(self) -> list[int]:
        return [REAL, 10_000] if self.quick else [REAL, 10_000, 100_000]

    def corpus(self, size: int) -> Path:
        """The real corpus, or a synthetic one of `size` quotes, generated once per run."""
        if size == REAL:
            return default_corpus_path()
        if size not in self._corpora:
            self._corpora[size] = write_corpus(self.workdir, size)
        return self._corpora[size]

    def settings(self, size: int, db: Path) -> Settings:
        return load_settings({}, db_path=db, corpus_path=self.corpus(size))

    def fresh_db(self, name: str) -> Path:
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=False)
        return folder / "lambert.db"

    async def loaded_db(self, size: int) -> Path:
        """A database holding corpus `size`, loaded through the normal open_service path."""
        if size not in self._databases:
            db = self.fresh_db(f"db-{size}")
            async with open_core(self.settings(size, db)):
                pass
            self._databases[size] = db
        return self._databases[size]

    def adopt_db(self, size: int, db: Path) -> None:
        """Reuse a database another family already loaded with corpus `size`."""
        self._databases.setdefault(size, db)


def label(size: int) -> str:
    return "real corpus" if size == REAL else f"{size:,} quotes"
