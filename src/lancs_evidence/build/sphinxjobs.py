"""How many Sphinx processes `lancs-evidence build` uses (`--sphinx-jobs`, `lancs_evidence.sphinx_jobs`).

Kept apart from `book` so that the command line can read the default without importing the build.
"""
from __future__ import annotations

import os

from lancs_evidence.data.project import Project, UserError

# Sphinx's parallel build reads pages in several processes and writes them in several (it also needs more
# than five pages to read in parallel). Starting the processes and merging what they read costs time, so
# a small book builds faster serially. The default ("auto") uses one process per core from
# SPHINX_JOBS_AUTO_FROM pages up, measured on the 2-core machine the book is built on (see README.md,
# "Sphinx's parallel build (`--sphinx-jobs`, 3 December 2026)").
SPHINX_JOBS_AUTO_FROM = 300


def book_page_count(project: Project) -> int:
    """Pages in the table of contents (_toc.yml as written for this build)."""
    import yaml

    from lancs_evidence.build.toc import toc_files

    try:
        toc = yaml.safe_load((project.root / "_toc.yml").read_text(encoding="utf-8")) or {}
        return len(toc_files(toc))
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return 0


def parse_sphinx_jobs(value, where: str) -> int | str:
    """A Sphinx process count: a whole number from 1, or "auto"."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        if isinstance(value, bool) or float(value) != int(value):
            raise ValueError
        n = int(value)
    except (TypeError, ValueError):
        raise UserError(f"{where} must be a whole number of Sphinx processes or auto, not {value!r}") from None
    if n < 1:
        raise UserError(f"{where} must be at least 1 (1 is a serial build), not {n}")
    return n


def sphinx_jobs_setting(project: Project, override=None) -> int | str:
    """--sphinx-jobs, else `lancs_evidence: {sphinx_jobs: N or auto}` in _config.yml, else "auto"."""
    import yaml

    if override is not None:
        return parse_sphinx_jobs(override, "--sphinx-jobs")
    config = project.root / "_config.yml"
    try:
        cfg = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        raw = (cfg.get("lancs_evidence") or {}).get("sphinx_jobs")
    except (OSError, yaml.YAMLError, AttributeError):
        raw = None
    return "auto" if raw is None else parse_sphinx_jobs(raw, f"{config}: lancs_evidence.sphinx_jobs")


def sphinx_jobs(setting: int | str, pages: int) -> int:
    """Sphinx processes for a book of `pages` pages: the number set, or for "auto" one per core once the
    book has SPHINX_JOBS_AUTO_FROM pages, else one."""
    if setting != "auto":
        return int(setting)
    return max(1, os.cpu_count() or 1) if pages >= SPHINX_JOBS_AUTO_FROM else 1
