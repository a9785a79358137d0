"""All-or-nothing writes for the commands that change the author's files (import, new-year,
reference-import).

`write_all` first writes every new file beside its target under a temporary name, and only when all of
them were written renames each over its target. If anything fails while writing (a read-only folder,
a full disk, a folder where a file is expected), the temporary files are removed, no target has been
touched, and the failure is reported as a UserError naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

from lancs_evidence.data.project import UserError


def check_writable(paths: list[Path]) -> None:
    """Refuse early, naming the first target whose folder cannot be written to (or that is not a file)."""
    for path in paths:
        folder = path.parent
        if path.exists() and not path.is_file():
            raise UserError(f"{path}: cannot be written: it is not a file; nothing was changed")
        if not folder.is_dir():
            raise UserError(f"{folder}: cannot be written: it is not a folder; nothing was changed")
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise UserError(f"{path}: cannot be written (permission denied); nothing was changed")


def write_all(files: dict[Path, bytes]) -> None:
    """Write every file or none. Targets keep their content until all new content is on disk."""
    check_writable(list(files))
    temps: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            temps.append((tmp, path))
            with open(tmp, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
    except OSError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        target = temps[-1][1] if temps else next(iter(files))
        raise UserError(f"{target}: cannot be written ({exc.strerror or exc}); nothing was changed") from None
    done = 0
    try:
        for tmp, path in temps:
            os.replace(tmp, path)
            done += 1
    except OSError as exc:
        for tmp, _ in temps[done:]:
            tmp.unlink(missing_ok=True)
        written = ", ".join(str(p) for _, p in temps[:done]) or "none"
        raise UserError(f"{temps[done][1]}: cannot be replaced ({exc.strerror or exc}); files already replaced: {written}") from None
