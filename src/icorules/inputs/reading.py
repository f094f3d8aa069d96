"""Reading one input file's text: within the byte limit, never blocking, UTF-8 only.

A regular file's size is checked before it is read. A named pipe or a device has no size to
check, so it is read only up to the limit, and only while something arrives: `read_text` opens
it without blocking and waits at most PIPE_TIMEOUT seconds for each next piece, so a pipe that
no program writes to (or a terminal) is refused rather than waited on forever.
"""

from __future__ import annotations

import codecs
import os
import select
import stat
from pathlib import Path
from typing import BinaryIO

from icorules.errors import InputError, Problem
from icorules.limits import DEFAULT_LIMITS, Limits

_BOMS = (  # longest first: UTF-32-LE's mark starts with UTF-16-LE's
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


# How long to wait for the next bytes from a pipe or device before refusing it.
PIPE_TIMEOUT = 10.0
_CHUNK = 1 << 16


def read_text(
    path: Path, name: str, limits: Limits = DEFAULT_LIMITS, *, timeout: float | None = None
) -> str:
    """The file as text, read only up to the input_bytes limit.

    A regular file's size is checked first. A named pipe or device is opened without blocking
    and read while something arrives, waiting at most `timeout` seconds (PIPE_TIMEOUT) for
    each next piece, and only up to the limit.
    """
    return decode(read_bytes(path, name, limits, timeout=timeout), name)


def read_bytes(
    path: Path, name: str, limits: Limits = DEFAULT_LIMITS, *, timeout: float | None = None
) -> bytes:
    """The file's bytes, read as `read_text` reads them (not decoded)."""
    cap = limits.input_bytes
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError.single(name, "no such file") from None
    except PermissionError:
        raise InputError.single(name, "permission denied") from None
    except OSError as exc:
        raise InputError.single(name, f"cannot read the file ({exc.strerror})") from None
    try:
        info = os.fstat(handle)
        mode = info.st_mode
        if stat.S_ISDIR(mode):
            raise InputError.single(name, "is a directory, not a file")
        if stat.S_ISREG(mode):
            size = info.st_size
            if size > cap:
                raise InputError.single(
                    name, limits.exceeded("input_bytes", f"the file is {size:,} bytes")
                )
            os.set_blocking(handle, True)
            raw = _read_file(handle, cap + 1)
        else:
            wait = PIPE_TIMEOUT if timeout is None else timeout
            source = "on the pipe" if stat.S_ISFIFO(mode) else "from the device"
            raw = _read_stream(handle, name, cap + 1, wait, source)
    except OSError as exc:
        raise InputError.single(name, f"cannot read the file ({exc.strerror})") from None
    finally:
        os.close(handle)
    if len(raw) > cap:
        raise InputError.single(
            name, limits.exceeded("input_bytes", f"the file is more than {cap:,} bytes")
        )
    return raw


def _read_file(handle: int, most: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < most:
        chunk = os.read(handle, min(_CHUNK, most - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _read_stream(handle: int, name: str, most: int, timeout: float, source: str) -> bytes:
    """Up to `most` bytes from a pipe or device opened without blocking, until the writer
    closes it; waits at most `timeout` seconds for each next piece."""
    chunks: list[bytes] = []
    size = 0
    while size < most:
        if not _readable(handle, timeout):
            raise InputError.single(name, f"nothing arrived {source} within {timeout:g} s")
        try:
            chunk = os.read(handle, min(_CHUNK, most - size))
        except BlockingIOError:  # woken, but someone else took the bytes
            continue
        if not chunk:  # the writer closed it
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _readable(handle: int, timeout: float) -> bool:
    """Wait until `handle` has bytes or is closed by its writer; False after `timeout` s."""
    if hasattr(select, "poll"):  # any descriptor (select.select is limited to 1,024)
        poller = select.poll()
        poller.register(handle, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(max(0, int(timeout * 1000))))
    return bool(select.select([handle], [], [], timeout)[0])  # pragma: no cover (not Linux)


def read_stream(stream: BinaryIO, name: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """Text from a stream that is already open (standard input), read only up to the
    input_bytes limit."""
    cap = limits.input_bytes
    raw = stream.read(cap + 1)
    if len(raw) > cap:
        raise InputError.single(
            name, limits.exceeded("input_bytes", f"the input is more than {cap:,} bytes")
        )
    return decode(raw, name)


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without a byte-order mark); anything else is refused, saying what it is."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _refuse_encoding(name, 1, 1, f"is {encoding} text; save it as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        hint = " (UTF-16 without a byte-order mark?)" if nul < 4 else ""
        return _refuse_encoding(
            name, line, column, f"holds a NUL byte, so it is not UTF-8 text{hint}; save it as UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        message = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        return _refuse_encoding(name, line, column, message)


def _refuse_encoding(name: str, line: int, column: int, message: str) -> str:
    raise InputError([Problem(name, line, column, message)])


def _byte_position(raw: bytes, at: int) -> tuple[int, int]:
    return raw.count(b"\n", 0, at) + 1, at - (raw.rfind(b"\n", 0, at) + 1) + 1
