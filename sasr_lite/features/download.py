"""Fetch a URL to a local file: short timeout, atomic write, optional SHA-256 check, clear errors.

Used by `data_scripts/` only: nothing in the package downloads at run time.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

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
