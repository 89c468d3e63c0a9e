"""The published annotation files of MUSIC-AVQA v2.0 and MUSIC-AVQA-R: where each lives, its pinned
digest, and the kit's name for it.

Sources (each pinned to a commit):

- MUSIC-AVQA v2.0 (Liu et al., WACV 2024): its authors publish train and test files only
  (github.com/DragonLiu1995/MUSIC-AVQA-v2.0, ``data/balance_full_set/`` and ``data/bias_set/``).
  QA-TIGER (github.com/AIM-SKKU/QA-TIGER, ``data/annots/music_avqa_v2/``) divides each train
  file into train and val "as the authors' original split" (its README) and ships the same test
  files (identical bytes). The kit reads QA-TIGER's train, val and test.
- MUSIC-AVQA-R (Ma et al., NeurIPS 2024): github.com/reml-group/MUSIC-AVQA-R,
  ``dataset/MUSIC-AVQA-R/``. QA-TIGER's ``data/annots/music_avqa_r/`` holds other bytes under
  the same names (recognised too, not downloaded).

Digests: SHA-256 of the files we could fetch and read; for files of 4 MiB and more, which our
source snapshots do not keep, the git blob id from the repository's tree (SHA-1 of
``b"blob <size>\\0"`` + the bytes), which pins the bytes as well. `file_release` recognises a file
by either; `data_scripts/download_music_avqa_v2.py` checks every download against its pin.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

V2_BALANCED, V2_BIASED, R_RELEASE = "v2.0-balanced", "v2.0-biased", "r"
QA_TIGER = ("AIM-SKKU/QA-TIGER", "f40bd027236ed7ab29ad1e6effad286559cc41f1")
V2_AUTHORS = ("DragonLiu1995/MUSIC-AVQA-v2.0", "7db4f5480dcf833d4aa588235bc7a533c57c1719")
R_AUTHORS = ("reml-group/MUSIC-AVQA-R", "d9bed99bb3ecfdc33553a20579d9a040a8844750")


@dataclass(frozen=True)
class PublishedFile:
    release: str
    source: tuple[str, str]  # (GitHub owner/name, commit)
    path: str  # inside the repository
    digest: str  # "sha256:<hex>" or "git-blob:<hex>"
    kit_path: str | None = None  # where the download script puts it (None: recognised, not downloaded)

    @property
    def url(self) -> str:
        repo, commit = self.source
        return f"https://raw.githubusercontent.com/{repo}/{commit}/{self.path}"

    def matches(self, data: bytes) -> bool:
        return self.digest in digests(data)


def digests(data: bytes) -> tuple[str, str]:
    """("sha256:<hex>", "git-blob:<hex>") of ``data``."""
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return f"sha256:{hashlib.sha256(data).hexdigest()}", f"git-blob:{blob}"


_V2, _R = "data/annots/music_avqa_v2", "dataset/MUSIC-AVQA-R"
PUBLISHED_FILES: tuple[PublishedFile, ...] = (
    PublishedFile(V2_BALANCED, QA_TIGER, f"{_V2}/balance_train.json",
                  "git-blob:fce92b7be3c86406acd4782f708cf9069d2dea31", "music_avqa_v2/balanced/avqa-train.json"),
    PublishedFile(V2_BALANCED, QA_TIGER, f"{_V2}/balance_valid.json",
                  "sha256:2b8ad91e181bc76e23d89bc029f04fa0f6c37c87584ebf60e217d3f7e932efbe",
                  "music_avqa_v2/balanced/avqa-val.json"),
    PublishedFile(V2_BALANCED, QA_TIGER, f"{_V2}/test_balance.json",
                  "sha256:78e854694bc5944f63a49b26a2a95bfe672ed7de6a455a8a097f1731d98a70a0",
                  "music_avqa_v2/balanced/avqa-test.json"),
    PublishedFile(V2_BIASED, QA_TIGER, f"{_V2}/bias_train.json",
                  "git-blob:22b37bf43d6deee82e517efc6945e1a3e28fc6f6", "music_avqa_v2/biased/avqa-train.json"),
    PublishedFile(V2_BIASED, QA_TIGER, f"{_V2}/bias_valid.json",
                  "sha256:d8a4308564ba79afd79be93e0e9015e085e7bbfd7183f5e44b551a055570e30e",
                  "music_avqa_v2/biased/avqa-val.json"),
    PublishedFile(V2_BIASED, QA_TIGER, f"{_V2}/test_bias.json",
                  "sha256:cbf5e8096eaa94271061d37d273a7f2977d2b82e0c69a1194bcebd816aa5455b",
                  "music_avqa_v2/biased/avqa-test.json"),
    # the v2.0 authors' undivided train files (QA-TIGER's train + val), same bytes in both repositories
    PublishedFile(V2_BALANCED, V2_AUTHORS, "data/balance_full_set/train_balance.json",
                  "git-blob:5b5ef1934f4f538a2ea15aa853ba34bfe52ff29a"),
    PublishedFile(V2_BIASED, V2_AUTHORS, "data/bias_set/train_bias.json",
                  "git-blob:fd92f964a630e4f321a1ab56b3641757791ab6e8"),
    PublishedFile(R_RELEASE, R_AUTHORS, f"{_R}/avqa-test-headtail.json",
                  "git-blob:35ab0599d288e54f391bae511ca099a0f73f2467", "music_avqa_r/avqa-test-headtail.json"),
    PublishedFile(R_RELEASE, R_AUTHORS, f"{_R}/avqa-test-head.json",
                  "git-blob:387be11979f25e7a90dce5b6e5d8012f43adaefb", "music_avqa_r/avqa-test-head.json"),
    PublishedFile(R_RELEASE, R_AUTHORS, f"{_R}/avqa-test-tail.json",
                  "git-blob:19e426a64257efdf6a13d870d2465f39cc54f0aa", "music_avqa_r/avqa-test-tail.json"),
    PublishedFile(R_RELEASE, QA_TIGER, "data/annots/music_avqa_r/avqa-test-headtail.json",
                  "git-blob:429b74234105882f8f3d63a4fa8969fdaebe4f78"),
    PublishedFile(R_RELEASE, QA_TIGER, "data/annots/music_avqa_r/avqa-test-head.json",
                  "git-blob:773c361fce18981662694a14c7adf91d0e776a97"),
    PublishedFile(R_RELEASE, QA_TIGER, "data/annots/music_avqa_r/avqa-test-tail.json",
                  "git-blob:33e7907a7ddf2164743accb6bb89f495b5e343a3"),
)
_BY_DIGEST = {f.digest: f for f in PUBLISHED_FILES}


def published_file(data: bytes) -> PublishedFile | None:
    """The published file with exactly these bytes, else None."""
    return next((_BY_DIGEST[d] for d in digests(data) if d in _BY_DIGEST), None)


def file_release(data: bytes) -> str | None:
    """The release (V2_BALANCED, V2_BIASED, R_RELEASE) of a published file with these bytes, else None."""
    found = published_file(data)
    return found.release if found else None
