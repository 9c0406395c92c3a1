"""Atomic file writes: a temp file beside the target, flushed to disk, then put in place.

One helper for every file the daemon writes whole (settings, token, ledger key, evidence
packs, index caches), so a crash or a full disk never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: Path | str, mode: str = "wb", *, private: bool = False,
                 exclusive: bool = False, encoding: str | None = None) -> Iterator[IO]:
    """Yield a file to write `path` through; it appears whole or not at all.

    `private` makes it 0600 (the temp file already is: mkstemp). `exclusive` never replaces
    an existing file: it raises FileExistsError instead, so two processes creating the same
    file at once agree on one winner. On any error the temp file is removed.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if not private:
            # mkstemp makes 0600; an ordinary file gets the usual umask-based mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # fails when the target exists; rename would overwrite it
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path | str, text: str, *, private: bool = False) -> None:
    """Write a whole UTF-8 text file atomically."""
    with atomic_write(path, "w", private=private, encoding="utf-8") as fh:
        fh.write(text)
