"""Atomic file writes: a reader (or a run started again after a kill) sees the old file or the
new one, never half of one.

Every writer goes through :func:`atomic_path`: the content is written to a temporary file
beside the target (same folder, so same file system), then renamed over it with
:func:`os.replace`, which is atomic on POSIX and Windows. The temporary name keeps the target's
suffix, so that writers which pick a format from it (``Figure.savefig``, ``np.savez``, SB3's
``save``) write the right one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write instead of ``path``; when the block ends without an
    error, the file written there replaces ``path`` (its folder is created if missing). On an
    error the temporary file is removed and ``path`` is left as it was."""
    target = Path(path)
    if target.name in ("", ".", ".."):
        raise ValueError(f"path={str(path)!r}: expected a file path, not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"path={str(target)!r}: nothing was written to the temporary file {tmp}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def writable_folder(path: str | os.PathLike[str], name: str = "out") -> Path:
    """Create the folder ``path`` if missing and check that a file can be written in it, so that
    a command finds out before its work, not after; a ValueError naming ``name`` otherwise."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-check.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"{name}={str(path)!r}: cannot write there ({e.strerror or e}); expected a writable folder") from None
    return folder


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    if not isinstance(text, str):
        raise TypeError(f"text: got {type(text).__name__}; expected str (atomic_write_bytes writes bytes)")
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to ``path`` atomically."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: got {type(data).__name__}; expected bytes (atomic_write_text writes str)")
    with atomic_path(path) as tmp:
        tmp.write_bytes(bytes(data))


def atomic_save_figure(fig: Any, path: str | os.PathLike[str], **savefig_kwargs: Any) -> None:
    """``fig.savefig(path, **savefig_kwargs)`` atomically (the format follows ``path``'s suffix
    unless ``format`` is given); the figure stays open."""
    if not callable(getattr(fig, "savefig", None)):
        raise TypeError(f"fig: got {type(fig).__name__}; expected a matplotlib Figure (an object with savefig)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **savefig_kwargs)
