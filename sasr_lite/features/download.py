"""Fetch a URL to a local file: short timeout, atomic write, optional SHA-256 check, clear errors.

Used by `data_scripts/` only: nothing in the package downloads at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sasr_lite.features.weights import hash_matches

DEFAULT_TIMEOUT = 15.0  # seconds to connect or between two reads


class DownloadError(RuntimeError):
    """A URL could not be fetched, or what came back failed its check."""


def fetch(url: str, dest: str | Path, sha256: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Download `url` to `dest` (temp file + os.replace); check `sha256` (full or prefix); return the digest."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    size = int(response.headers.get("Content-Length") or 0) or None
                    with tqdm(total=size, unit="B", unit_scale=True, desc=dest.name, leave=False) as bar:
                        for block in iter(lambda: response.read(1 << 20), b""):
                            out.write(block)
                            digest.update(block)
                            bar.update(len(block))
            except (urllib.error.URLError, socket.timeout, TimeoutError, OSError, ValueError) as err:
                reason = getattr(err, "reason", err)
                raise DownloadError(
                    f"could not download {url}: {reason}\n"
                    f"(no network, a proxy or firewall, or the file moved; timeout {timeout:g} s)"
                ) from err
        actual = digest.hexdigest()
        if sha256 is not None and not hash_matches(actual, sha256.lower()):
            raise DownloadError(f"SHA-256 mismatch for {url}:\n  expected {sha256.lower()}\n  actual   {actual}")
        os.replace(tmp, dest)
        return actual
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch_checked(url: str, path: Path, check: Callable[[Path], Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Fetch ``url``, run ``check`` on the downloaded file (it raises ValueError on bad content and
    returns what the caller records), then rename it onto ``path``; nothing is left on failure.
    A check's message names the URL, not the temporary file."""
    tmp = path.parent / f".download-{os.getpid()}" / path.name  # same file system: the rename is atomic
    try:
        fetch(url, tmp, timeout=timeout)
        try:
            entry = check(tmp)
        except ValueError as err:
            raise ValueError(str(err).replace(str(tmp), url)) from None
        os.replace(tmp, path)
        return entry
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)
