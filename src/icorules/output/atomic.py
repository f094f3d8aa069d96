"""Writing a file so that readers see the old content or the new, never half of either.

Every file icorules writes (reports, --output, `rules docs`, `market import`, HTML pages) goes
through `write_atomic`: the text is written to a temporary file beside the target, flushed to
disk, then renamed over it in one step. If anything fails or interrupts the write (a full disk,
an exception, Ctrl-C), the temporary file is removed and the previous file is untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: str | Path, text: str | Iterable[str], *, encoding: str = "utf-8") -> None:
    """Replace the file at `path` with `text`, or the pieces of it, in one step (see the module
    docstring).

    A symbolic link is followed, so the file it points to is replaced and the link stays. A
    target that exists but is not a regular file (/dev/null, a pipe, a terminal) cannot be
    renamed over, so it is written directly. The new file keeps the old file's permissions;
    a new file gets the usual ones (0666 less the umask, applied by the kernel on creation:
    reading the umask would briefly change it for every thread of the process).
    """
    target = Path(path)
    # A string is encoded before anything is created, so an encoding error leaves no trace;
    # pieces are encoded as they are written, and an error in one removes the temporary file.
    data: Iterable[bytes] = (
        [text.encode(encoding)]
        if isinstance(text, str)
        else (piece.encode(encoding) for piece in text)
    )
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        with target.open("wb") as handle:
            handle.writelines(data)
        return
    real = target.resolve()
    tmp = real.with_name(f".{real.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(data)
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether `a` and `b` are one file (by name, symbolic or hard link): an output that is
    one of a command's inputs is refused, never written over it."""
    try:
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False
