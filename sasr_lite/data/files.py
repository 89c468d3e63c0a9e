"""Atomic file writing (a reader never sees half a file: temp file in the same folder + os.replace)
and JSON reading whose errors name the file."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

_UMASK = os.umask(0)
os.umask(_UMASK)


def disk_full(err: BaseException | None) -> bool:
    """Whether ``err``, or an error it was raised from or while handling, is "no space left on
    device" (torch.save, for one, reports it as a RuntimeError about an "unexpected pos")."""
    while err is not None:
        if isinstance(err, OSError) and err.errno == errno.ENOSPC:
            return True
        err = err.__cause__ or err.__context__
    return False


@contextlib.contextmanager
def naming_disk_full(path: str | Path):
    """Inside the block, running out of disk space raises OSError "no space left on device writing PATH"."""
    try:
        yield
    except BaseException as err:
        if disk_full(err):
            raise OSError(errno.ENOSPC, f"no space left on device writing {path}") from err
        raise


def write_atomic(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Run ``write(file)`` on a temporary file next to ``path``, then rename it onto ``path``: a
    reader sees the old file or the whole new one, never half of one. The file gets the usual
    mode (0666 less the umask), and a full disk is named as such."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with naming_disk_full(path), os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes owner-only files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` so that ``path`` holds either the old or the whole new text."""
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def read_json(path: str | Path, what: str = "file") -> Any:
    """Parse the JSON file ``path``; errors name the file (``what`` says which kind is missing)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}: {err.reason}); JSON files must be UTF-8") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from None


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """``obj`` as indented JSON, written atomically."""
    return write_text_atomic(path, json.dumps(obj, indent=2) + "\n")


def disk_size(path: str | Path) -> int:
    """Bytes of the files under ``path``."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def process_alive(pid: int) -> bool:
    """Is process ``pid`` running on this host (a lock's or a leftover folder's owner)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file (remembered per path, size and mtime: weights and checkpoints are hashed once)."""
    stat = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
