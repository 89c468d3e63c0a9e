"""`sasr-lite verify-store DIR`: read a whole feature store and check every video's rows.

Opening a store checks only what is cheap (manifest keys, shapes, ids against rows). This reads
every row once and reports, per video: values that are not finite (NaN or inf), and rows whose
SHA-256 differs from the one the writer recorded under that video's id, which is what a changed
feature file or a reordered id list in the manifest looks like. Stores written before the
checksums existed are checked for finiteness only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from sasr_lite.data.store import MANIFEST, FeatureStore, row_digest


def verify_store(store: FeatureStore) -> list[str]:
    """One line per problem found in ``store`` (empty when every row is finite and matches its checksum)."""
    recorded = store.manifest.get("row_sha256") or {}
    problems = []
    if not recorded:  # every build records them: without them a changed row would pass unseen
        problems.append(f"{store.path / MANIFEST}: no row_sha256 (the per-video checksums every store build records), "
                        "so the rows cannot be checked; rebuild the store")
    for i, video_id in enumerate(store.ids):
        rows = {"audio": store.audio[i], "visual": store.visual[i], "maps": store.maps[i]}
        bad = [name for name, row in rows.items() if not np.isfinite(row).all()]
        if bad:
            problems.append(f"video {video_id!r} (row {i}): non-finite values in {', '.join(bad)}")
        if recorded and row_digest(**rows) != recorded.get(video_id):
            problems.append(f"video {video_id!r} (row {i}): its rows differ from the checksum recorded for this "
                            "id at build time (a changed feature file, or a reordered id list in manifest.json)")
    return problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", type=Path, help="a feature store folder (e.g. data/synth_small/store/train)")


def run(args: argparse.Namespace) -> int:
    try:
        store = FeatureStore.open(args.store)
    except (OSError, ValueError) as err:
        print(f"sasr-lite verify-store: error: {err}", file=sys.stderr)
        return 1
    problems = verify_store(store)
    for line in problems[:20]:
        print(line)
    if problems:
        print(f"{args.store}: {len(problems)} problem(s) in {len(store)} videos", file=sys.stderr)
        return 1
    print(f"{args.store}: all {len(store)} videos finite and matching their checksums")
    return 0
