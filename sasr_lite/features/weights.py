"""Pretrained weights from local files, checked by SHA-256 before they are unpickled.

Three files, their upstream names and where their hashes come from:
- `resnet18-f37072fd.pth`, torchvision's ImageNet ResNet-18 (`ResNet18_Weights.IMAGENET1K_V1`).
  Full SHA-256 below; torchvision itself only checks the 8-hex prefix in the file name.
- `vggish-10086976.pth`, the PyTorch port of VGGish (harritaylor/torchvggish, release v0.1).
  Full SHA-256 below (it starts with the prefix in the file name, the torch.hub convention).
- `vggish_pca_params-970ea276.pth`, the port's PCA parameters (`pca_eigen_vectors` [128, 128],
  `pca_means` [128]). Only the file name's prefix `970ea276` is known here, so this one is
  checked the way torch.hub checks it: the digest must start with that prefix.

A file that fails its check is rejected with its path, the expected and the actual hash. To use
another file you trust (a re-saved or fine-tuned checkpoint), pass its digest explicitly
(`--sha256 KIND=HEX`); the key names and shapes are still checked.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sasr_lite.data.files import sha256_file
from sasr_lite.features.resnet import ResNet18Maps, torchvision_resnet18
from sasr_lite.features.vggish import EMBEDDING_SIZE, Postprocessor, VGGish

RANDOM_SEED = 0  # random weights are seeded so that a resumed run computes the same features


@dataclass(frozen=True)
class KnownWeights:
    kind: str
    filename: str  # the upstream file name (the default name under a weights directory)
    url: str
    sha256: str  # the full digest, or only the hex prefix the file name embeds when that is all we know
    description: str

    @property
    def full_hash_known(self) -> bool:
        return len(self.sha256) == 64


KNOWN_WEIGHTS: dict[str, KnownWeights] = {
    w.kind: w
    for w in (
        KnownWeights(
            "resnet18",
            "resnet18-f37072fd.pth",
            "https://download.pytorch.org/models/resnet18-f37072fd.pth",
            "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec",
            "torchvision ImageNet ResNet-18",
        ),
        KnownWeights(
            "vggish",
            "vggish-10086976.pth",
            "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
            "10086976245803799d9194e9a73d9b6c1549c71d1b80106f5cade5608a561f4b",
            "VGGish (PyTorch port of the AudioSet model)",
        ),
        KnownWeights(
            "vggish_pca",
            "vggish_pca_params-970ea276.pth",
            "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth",
            "970ea276",
            "VGGish PCA parameters",
        ),
    )
}


class WeightsError(RuntimeError):
    """A weight file is missing, fails its SHA-256 check, or holds the wrong state dict."""


def _check_hex(value: str, what: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", value):
        raise WeightsError(f"{what}: {value!r} is not a SHA-256 hex digest (or a prefix of 8+ hex digits)")
    return value


def hash_matches(actual: str, expected: str) -> bool:
    """A full digest must match exactly; a shorter one is a prefix (the torch.hub file-name check)."""
    return actual == expected if len(expected) == 64 else actual.startswith(expected)


def verify_sha256(path: str | Path, kind: str, expected: str | None = None) -> str:
    """Check `path` against `expected` (or the registry's hash for `kind`); return its digest."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{KNOWN_WEIGHTS[kind].description} weights not found: {path}")
    expected = _check_hex(expected or KNOWN_WEIGHTS[kind].sha256, f"expected SHA-256 for {kind}")
    actual = sha256_file(path)
    if not hash_matches(actual, expected):
        how = "" if len(expected) == 64 else " (a prefix: the only part of this file's hash we know)"
        raise WeightsError(
            f"SHA-256 mismatch for {KNOWN_WEIGHTS[kind].description} weights {path}:\n"
            f"  expected {expected}{how}\n  actual   {actual}\n"
            f"The file is corrupt, truncated or a different checkpoint. If you trust it, pass "
            f"--sha256 {kind}={actual}"
        )
    return actual


def parse_sha256_overrides(items: list[str] | None) -> dict[str, str]:
    """["resnet18=HEX", ...] -> {"resnet18": "hex"}; unknown kinds and bad digests are errors."""
    overrides: dict[str, str] = {}
    for item in items or []:
        kind, sep, value = item.partition("=")
        if not sep or kind not in KNOWN_WEIGHTS:
            raise WeightsError(f"--sha256 takes KIND=HEX with KIND in {sorted(KNOWN_WEIGHTS)}, got {item!r}")
        overrides[kind] = _check_hex(value, f"--sha256 {kind}")
    return overrides


# numpy arrays inside a checkpoint (the port's PCA file may hold them) are safe to rebuild: allow
# exactly what that takes, under both the numpy 2 and numpy 1 module names a pickle may use
_NUMPY_GLOBALS = [
    np.ndarray,
    np.dtype,
    np.dtypes.Float32DType,
    np.dtypes.Float64DType,
    (np.ndarray.__reduce__(np.zeros(0))[0], "numpy._core.multiarray._reconstruct"),
    (np.ndarray.__reduce__(np.zeros(0))[0], "numpy.core.multiarray._reconstruct"),
]


def load_state_dict(path: str | Path) -> dict:
    """torch.load with `weights_only=True` (tensors and plain numpy arrays only) -> a dict."""
    try:
        with torch.serialization.safe_globals(_NUMPY_GLOBALS):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling raises many types; all mean "not a checkpoint we read"
        raise WeightsError(f"cannot read {path} as a PyTorch checkpoint: {err}") from err
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state dict (got {type(state).__name__})")
    return state


def check_state_dict(
    state: dict, expected: dict[str, tuple[int, ...]], what: str, path: str | Path, optional: tuple[str, ...] = ()
) -> None:
    """Raise WeightsError naming missing, unexpected and wrongly shaped keys (`optional` may be absent)."""
    missing = [k for k in expected if k not in state and not k.endswith(optional)]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: {tuple(np.shape(state[k]))} instead of {expected[k]}"
        for k in expected
        if k in state and tuple(np.shape(state[k])) != expected[k]
    ]
    if missing or unexpected or shapes:
        parts = [
            f"{label} ({len(items)}): {', '.join(items[:6])}{' ...' if len(items) > 6 else ''}"
            for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", shapes))
            if items
        ]
        raise WeightsError(f"{path} is not a {what} state dict:\n  " + "\n  ".join(parts))


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def load_resnet18(path: str | Path, sha256: str | None = None) -> ResNet18Maps:
    """The torchvision ImageNet ResNet-18 checkpoint -> ResNet18Maps (stride-1 layer4), eval mode."""
    verify_sha256(path, "resnet18", sha256)
    state = load_state_dict(path)
    with torch.device("meta"):  # shapes only: the checkpoint provides every value
        net = torchvision_resnet18()
    # torchvision's keys: conv1.weight, bn1.*, layer{1-4}.{0,1}.{conv,bn}{1,2}.*, layerN.0.downsample.*, fc.*
    check_state_dict(state, _shapes(net), "torchvision ResNet-18", path, optional=("num_batches_tracked",))
    # the torchvision file predates BatchNorm's step counter; it only matters for training
    state = {k: torch.tensor(0) for k in net.state_dict() if k.endswith("num_batches_tracked")} | state
    net.load_state_dict(state, assign=True)
    return ResNet18Maps(net).eval()


def load_vggish(
    path: str | Path,
    sha256: str | None = None,
    pca_path: str | Path | None = None,
    pca_sha256: str | None = None,
) -> VGGish:
    """The port's `vggish-10086976.pth` (+ optional `vggish_pca_params-970ea276.pth`) -> VGGish."""
    verify_sha256(path, "vggish", sha256)
    state = load_state_dict(path)
    with torch.device("meta"):  # shapes only: the checkpoint provides every value
        model = VGGish()
    # the port's keys: features.{0,3,6,8,11,13}.{weight,bias}, embeddings.{0,2,4}.{weight,bias}
    check_state_dict(state, _shapes(model), "VGGish (PyTorch port)", path)
    model.load_state_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in state.items()}, assign=True)
    if pca_path is not None:
        model.pproc = load_pca(pca_path, pca_sha256)
    return model.eval()


def load_pca(path: str | Path, sha256: str | None = None) -> Postprocessor:
    """The port's PCA file (numpy arrays or tensors; means [128] or [128, 1]) -> Postprocessor."""
    verify_sha256(path, "vggish_pca", sha256)
    state = load_state_dict(path)
    state = {
        k: (np.reshape(v, (EMBEDDING_SIZE, 1)) if k == "pca_means" and np.size(v) == EMBEDDING_SIZE else v)
        for k, v in state.items()
    }
    post = Postprocessor()
    check_state_dict(state, _shapes(post), "VGGish PCA parameters", path)
    post.load_state_dict({k: torch.as_tensor(np.asarray(v), dtype=torch.float32) for k, v in state.items()})
    return post


def random_resnet18() -> ResNet18Maps:
    torch.manual_seed(RANDOM_SEED)
    return ResNet18Maps().eval()


def random_vggish() -> VGGish:
    torch.manual_seed(RANDOM_SEED)
    return VGGish().eval()


def warn_random_weights(kinds: list[str]) -> str:
    """Print a loud banner on stderr; return the one-line warning recorded in manifests."""
    line = (
        f"RANDOM WEIGHTS for {', '.join(kinds)}: these features carry no pretrained knowledge and "
        f"cannot reproduce any MUSIC-AVQA number (fine for plumbing tests and the synthetic demo)"
    )
    bar = "!" * 78
    print(f"{bar}\n!! WARNING: {line}\n!! Get real weights: python data_scripts/download_weights.py\n{bar}",
          file=sys.stderr)
    return line
