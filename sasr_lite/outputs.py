"""One rule for every command's output folder: nothing it did not write is overwritten or deleted.

Each writer records what it wrote in a marker file inside its output folder (``MARKER``: the
command, and each file's size and modification time). Before any work, `claim` decides:

- a missing or empty folder is new;
- a folder holding the same command's earlier output is refused unless the command resumes or
  reuses it (``--resume``), or, for commands that rebuild their output from scratch (``replace_own``:
  synth, build-store, eval, the student copies), when every file there is one the command wrote and
  nobody changed since (an edited student notebook, a file added beside a benchmark: refused);
- anything else is refused, naming a file the command did not write;
- ``--overwrite`` moves the old folder aside to ``NAME.old-N`` (never deletes it) and starts afresh.

`folder_lock` keeps two writers out of one folder at once: a lock file beside the folder, created
atomically (O_CREAT | O_EXCL) with the owner's PID and host. A second writer is refused, naming
the owner; a lock whose process is gone (same host) is taken over with a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from sasr_lite.data.files import process_alive, read_json, write_json_atomic

MARKER = ".sasr-lite-output.json"


def _lock_path(folder: Path, name: str = "") -> Path:
    folder = folder.resolve()
    return folder.parent / f".{folder.name}{name}.lock"


def _own_files(folder: Path) -> dict[str, list[int]]:
    """relative path -> [size, mtime_ns] of every file under ``folder`` but the marker and the
    locks of sub-folders (`folder_lock`'s, which come and go with the commands writing there)."""
    return {str(p.relative_to(folder)): [p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MARKER and not (p.name.startswith(".") and p.name.endswith(".lock"))}


def read_marker(folder: str | Path) -> dict | None:
    """The marker of ``folder`` (None when there is none or it is not one)."""
    path = Path(folder) / MARKER
    if not path.is_file():
        return None
    try:
        marker = read_json(path, "output marker")
    except ValueError:
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("command"), str) else None


def record_outputs(folder: str | Path, command: str, **extra) -> Path:
    """Write ``folder``'s marker: ``command`` wrote every file now under it (call it when the
    writing is done; a long run also calls it at its start, so that a crash leaves its folder known)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return write_json_atomic(folder / MARKER, {"command": command, "files": _own_files(folder), **extra})


def _changed(folder: Path, marker: dict) -> list[str]:
    """Files under ``folder`` that are not recorded in ``marker``, or differ from the record."""
    recorded = marker.get("files") or {}
    return [name for name, stat in _own_files(folder).items() if recorded.get(name) != stat]


def aside_name(path: Path) -> Path:
    """``path.old-N`` with the smallest N not taken."""
    n = 1
    while path.with_name(f"{path.name}.old-{n}").exists():
        n += 1
    return path.with_name(f"{path.name}.old-{n}")


def move_aside(path: str | Path) -> Path:
    """Rename ``path`` to ``path.old-N`` (nothing is deleted) and say so; returns the new name."""
    path = Path(path)
    target = aside_name(path)
    os.replace(path, target)
    print(f"moved the earlier {path} aside to {target}", file=sys.stderr, flush=True)
    return target


def claim(folder: str | Path, command: str, *, resume: bool = False, overwrite: bool = False,
          replace_own: bool = False, resume_flag: str = "--resume", overwrite_flag: str = "--overwrite") -> str:
    """Check, before any work, that ``command`` may write to ``folder``; returns "new" (absent or
    empty; an old folder moved aside by ``overwrite`` counts as absent), "resume" (its own output,
    continued) or "replace" (its own unchanged output, rebuilt). Anything else raises FileExistsError
    naming the folder, a file in the way and the flag that would allow it."""
    folder = Path(folder)
    cmd = f"sasr-lite {command}"
    if folder.exists() and not folder.is_dir():
        if overwrite:
            move_aside(folder)
            return _new(folder, resume, cmd, resume_flag)
        raise FileExistsError(f"{folder} is a file, not an output folder; choose another, or {overwrite_flag} "
                              f"moves it aside to {aside_name(folder).name}")
    if not folder.exists() or not any(folder.iterdir()):
        return _new(folder, resume, cmd, resume_flag)
    marker = read_marker(folder)
    if overwrite:
        move_aside(folder)
        return _new(folder, resume, cmd, resume_flag)
    aside = f"{overwrite_flag} moves it aside to {aside_name(folder).name}"
    if marker is None or marker["command"] != command:
        writer = f" (written by sasr-lite {marker['command']})" if marker else ""
        first = next((n for n in _own_files(folder)), MARKER)
        raise FileExistsError(f"{folder} holds files that {cmd} did not write{writer}, e.g. {first}; refusing to "
                              f"overwrite them: choose another output folder, or {aside}")
    if resume:
        return "resume"
    changed = _changed(folder, marker)
    if replace_own and not changed:
        return "replace"
    if changed and replace_own:
        raise FileExistsError(f"{folder}/{changed[0]} was not written by {cmd} or changed since it was; refusing "
                              f"to overwrite it: choose another output folder, or {aside}")
    again = f"{resume_flag} continues it, " if resume_flag else ""
    raise FileExistsError(f"{folder} holds an earlier {cmd} output; {again}{aside}")


def _new(folder: Path, resume: bool, cmd: str, resume_flag: str) -> str:
    if resume:
        raise FileNotFoundError(f"{resume_flag}: {folder} holds no earlier {cmd} output to continue")
    return "new"


def remove_own(folder: str | Path) -> None:
    """Delete the files ``folder``'s marker records (as `claim` found them: unchanged), then its
    empty sub-folders; used before a command rebuilds its own output in place."""
    folder = Path(folder)
    marker = read_marker(folder) or {}
    for name in marker.get("files") or {}:
        (folder / name).unlink(missing_ok=True)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()  # only when empty
    (folder / MARKER).unlink(missing_ok=True)


@contextlib.contextmanager
def writing(folder: str | Path, command: str, *, overwrite: bool = False, clear: bool = True):
    """The usual life of a rebuilt output: lock ``folder``, `claim` it (``replace_own``), delete the
    command's own earlier files when ``clear``, run the block, then record what is there."""
    with folder_lock(folder, command):
        if claim(folder, command, overwrite=overwrite, replace_own=True) == "replace" and clear:
            remove_own(folder)
        yield Path(folder)
        record_outputs(folder, command)


# --- the lock -------------------------------------------------------------------------------------
def _owner(lock: Path) -> dict | None:
    try:
        owner = json.loads(lock.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None


def _create_with(path: Path, text: str) -> None:
    """Create ``path`` holding ``text`` in one step, or raise FileExistsError: the text goes to a
    temporary file first and is hard-linked into place, so no reader ever sees the lock empty."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.link(tmp, path)  # fails if path exists, atomically
    finally:
        os.unlink(tmp)


@contextlib.contextmanager
def folder_lock(folder: str | Path, command: str, name: str = ""):
    """Hold the lock of ``folder`` inside the block (``name`` tells locks of one folder apart, e.g.
    extraction shards). Refused with FileExistsError naming the owner while another live process
    holds it; a lock left by a dead process on this host is taken over with a message."""
    folder = Path(folder)
    lock = _lock_path(folder, name)
    lock.parent.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname()
    me = {"pid": os.getpid(), "host": host, "command": f"sasr-lite {command}",
          "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    for attempt in range(2):
        try:
            _create_with(lock, json.dumps(me))
        except FileExistsError:
            owner = _owner(lock)
            if owner is None:
                raise FileExistsError(f"{folder} is locked by {lock}, which names no owner; remove that file if "
                                      "no other command is writing there") from None
            if attempt == 0 and owner.get("host") == host and not process_alive(owner["pid"]):
                print(f"{lock}: taking over the lock of {owner.get('command', 'a command')} (pid {owner['pid']}), "
                      "which is no longer running", file=sys.stderr, flush=True)
                lock.unlink(missing_ok=True)
                continue
            raise FileExistsError(f"{folder} is in use by {owner.get('command', 'another command')} (pid "
                                  f"{owner['pid']} on {owner.get('host')}, since {owner.get('since')}); wait for it "
                                  f"to finish, or remove {lock} if that process is gone") from None
        break
    try:
        yield lock
    finally:
        if (_owner(lock) or {}).get("pid") == os.getpid():
            lock.unlink(missing_ok=True)
