"""Files that hold a secret or the portfolio: created owner-only (0600) from the first byte.

Writing and then chmod-ing leaves a window in which another local user can open the file;
``os.open`` with the mode closes it. Existing files are tightened too (an older release may
have written them 0644).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), readable and writable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # O_CREAT's mode does not apply to an existing file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write(text)
    finally:
        if fd != -1:
            os.close(fd)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it owner-only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


@contextmanager
def owner_only() -> Iterator[None]:
    """Every file and directory created inside is owner-only from its first byte (umask
    077): for the reports, which hold the portfolio and are written by several libraries
    (openpyxl, python-pptx, matplotlib) that take no mode. The CLI writes them from one
    thread, so the process-wide umask is safe there; existing files keep their mode but are
    tightened by :func:`tighten`."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def tighten(paths: Iterable[Path]) -> None:
    """Take group and world access away from files written over an older, wider file."""
    for path in paths:
        try:
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(path, mode & 0o700)
        except OSError:
            pass  # a file someone removed meanwhile: nothing to protect
