#!/usr/bin/env python
"""Download the pretrained weights `sasr-lite extract` uses and check their SHA-256:

  resnet18     resnet18-f37072fd.pth           torchvision's ImageNet ResNet-18
  vggish       vggish-10086976.pth             VGGish, PyTorch port (harritaylor/torchvggish v0.1)
  vggish_pca   vggish_pca_params-970ea276.pth  its PCA parameters (only for `extract --pca`)

Known hashes live in sasr_lite/features/weights.py (full SHA-256 for resnet18 and vggish; for
the PCA file only the prefix in its name is known, checked the way torch.hub checks it).
Idempotent: a file already present that passes its check is kept; one that fails is fetched
again. Without a network it fails after --timeout seconds naming the URL it tried.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sasr_lite.features.download import DEFAULT_TIMEOUT, DownloadError, fetch
from sasr_lite.features.weights import KNOWN_WEIGHTS, WeightsError, parse_sha256_overrides, verify_sha256


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/weights"), help="folder for the weight files")
    parser.add_argument("--only", nargs="+", choices=sorted(KNOWN_WEIGHTS), default=["resnet18", "vggish"],
                        help="which files (default: resnet18 vggish; add vggish_pca for --pca)")
    parser.add_argument("--url", action="append", metavar="KIND=URL", help="fetch KIND from another URL (a mirror)")
    parser.add_argument("--sha256", action="append", metavar="KIND=HEX", help="expect this digest for KIND instead")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the network")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        expected = parse_sha256_overrides(args.sha256)
        urls = dict(item.split("=", 1) for item in args.url or [])
    except (WeightsError, ValueError) as err:
        print(f"error: {err} (--url takes KIND=URL)", file=sys.stderr)
        return 2
    for kind in args.only:
        known = KNOWN_WEIGHTS[kind]
        path, url = args.out / known.filename, urls.get(kind, known.url)
        if path.is_file():
            try:
                verify_sha256(path, kind, expected.get(kind))
                print(f"{path}: present, SHA-256 ok, skipped")
                continue
            except WeightsError as err:
                print(f"{err}\n-> downloading again", file=sys.stderr)
        try:
            digest = fetch(url, path, sha256=expected.get(kind, known.sha256), timeout=args.timeout)
        except DownloadError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"{path}: downloaded, SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
