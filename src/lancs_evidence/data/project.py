"""Where things are: the project root, its data folder and the book's current year.

Everything that locates a file goes through here, so the tests can point the whole pipeline at a
tiny fixture project by passing another root.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

ROOT_MARKERS = ("_config.yml", "_toc.yml")


class UserError(Exception):
    """A problem the user can fix (bad input, a wrong option). Printed without a traceback."""


def find_root(start: Path | None = None) -> Path:
    """The project root: $LANCS_EVIDENCE_ROOT, or the nearest folder above `start` with _config.yml."""
    env = os.environ.get("LANCS_EVIDENCE_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / m).exists() for m in ROOT_MARKERS):
            return folder
    raise UserError(
        f"{here}: not inside the evidence book (no _config.yml and _toc.yml found above it); "
        "run the command from the project folder"
    )


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def here(cls, start: Path | None = None) -> Project:
        return cls(find_root(start))

    # folders -------------------------------------------------------------------------
    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def chapters(self) -> Path:
        return self.root / "chapters"

    @property
    def build_dir(self) -> Path:
        return self.root / "_build"

    @property
    def site(self) -> Path:
        """The published site: a symlink swapped atomically when a build succeeds."""
        return self.build_dir / "html"

    @property
    def work(self) -> Path:
        """Private working area of the build (Sphinx environment, staging, cache)."""
        return self.build_dir / ".work"

    @property
    def src_package(self) -> Path:
        return Path(__file__).resolve().parent.parent  # src/lancs_evidence

    # the year --------------------------------------------------------------------------
    def years(self) -> list[dict[str, str]]:
        path = self.data / "years.csv"
        if not path.exists():
            raise UserError(f"{path}: missing; it lists the review years (id,label,source,current)")
        from lancs_evidence.data.ledger import record_file

        record_file(self.root, "data/years.csv")  # a page that asks for the year depends on this file
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    def current_year(self) -> str:
        rows = self.years()
        current = [r["id"] for r in rows if str(r.get("current", "")).strip().lower() == "true"]
        if len(current) != 1:
            raise UserError(f"{self.data / 'years.csv'}: exactly one year must have current=true")
        return current[0]

    def year_label(self, year: str | None = None) -> str:
        year = year or self.current_year()
        for r in self.years():
            if r["id"] == year:
                return r["label"]
        raise UserError(f"{self.data / 'years.csv'}: no year {year!r}")
