"""Writing a file whole or not at all: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_atomic"]


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; moved onto ``path`` when the block ends.

    The temporary file (``.<name>.<random>.partial`` in the same folder, so the rename is
    atomic) is flushed to disk and renamed over ``path`` only when the block finishes
    without an exception; on any failure -- a full disk, a file-size limit, Ctrl-C -- it is
    removed and ``path`` is left as it was (absent, or its old content). ``mode`` is the
    new file's permission bits (default: what ``open`` would give, 0o666 less the umask).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("whole")
    >>> sorted(p.name for p in folder.iterdir()), (folder / "out.txt").read_text()
    (['out.txt'], 'whole')

    References
    ----------
    POSIX ``rename(2)``: "If newpath already exists, it will be atomically replaced".
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _default_mode() if mode is None else mode)
        with open(tmp, "rb+") as fh:  # the bytes reach the disk before the name does
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(
    path: str | Path, data: str | bytes, *, mode: int | None = None, encoding: str = "utf-8"
) -> Path:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_path`).

    >>> import tempfile
    >>> p = write_atomic(Path(tempfile.mkdtemp()) / "a.txt", "text")
    >>> p.read_text()
    'text'

    References
    ----------
    POSIX ``rename(2)``.
    """
    path = Path(path)
    with atomic_path(path, mode=mode) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding=encoding)
    return path
