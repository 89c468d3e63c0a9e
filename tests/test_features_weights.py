"""Weight files: SHA-256 checks, the port's / torchvision's key names, PCA post-processing."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
import torch

from sasr_lite.features import weights as wt
from sasr_lite.features.resnet import ResNet18Maps, torchvision_resnet18
from sasr_lite.features.vggish import Postprocessor, VGGish

# The PyTorch port's VGGish keys and shapes (vggish-10086976.pth), written out by hand
PORT_VGGISH_KEYS = {
    "features.0.weight": (64, 1, 3, 3), "features.0.bias": (64,),
    "features.3.weight": (128, 64, 3, 3), "features.3.bias": (128,),
    "features.6.weight": (256, 128, 3, 3), "features.6.bias": (256,),
    "features.8.weight": (256, 256, 3, 3), "features.8.bias": (256,),
    "features.11.weight": (512, 256, 3, 3), "features.11.bias": (512,),
    "features.13.weight": (512, 512, 3, 3), "features.13.bias": (512,),
    "embeddings.0.weight": (4096, 12288), "embeddings.0.bias": (4096,),
    "embeddings.2.weight": (4096, 4096), "embeddings.2.bias": (4096,),
    "embeddings.4.weight": (128, 4096), "embeddings.4.bias": (128,),
}  # fmt: skip


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def vggish_file(tmp_path_factory):
    """A randomly initialised VGGish saved once (290 MB): (model, path, digest)."""
    torch.manual_seed(2)
    model = VGGish().eval()
    path = tmp_path_factory.mktemp("vggish") / "vggish.pth"
    torch.save(model.state_dict(), path)
    return model, path, sha(path)


def test_registry_hashes_agree_with_the_upstream_file_names():
    for known in wt.KNOWN_WEIGHTS.values():
        prefix = re.search(r"-([0-9a-f]{8})\.", known.filename).group(1)
        assert known.sha256.startswith(prefix), known.kind
        assert known.url.endswith("/" + known.filename)
    assert wt.KNOWN_WEIGHTS["resnet18"].full_hash_known and wt.KNOWN_WEIGHTS["vggish"].full_hash_known


def test_wrong_file_is_rejected_naming_file_expected_and_actual(tmp_path):
    bogus = tmp_path / "resnet18-f37072fd.pth"
    bogus.write_bytes(b"not the torchvision checkpoint")
    with pytest.raises(wt.WeightsError) as err:
        wt.load_resnet18(bogus)
    message = str(err.value)
    assert str(bogus) in message
    assert wt.KNOWN_WEIGHTS["resnet18"].sha256 in message
    assert sha(bogus) in message
    assert f"--sha256 resnet18={sha(bogus)}" in message
    # a prefix-only registry entry (the PCA file) is checked as a prefix, and says so
    with pytest.raises(wt.WeightsError, match="a prefix"):
        wt.verify_sha256(bogus, "vggish_pca")


def test_override_accepts_full_digest_or_prefix_and_rejects_malformed(tmp_path):
    f = tmp_path / "w.pth"
    f.write_bytes(b"abc")
    digest = sha(f)
    assert wt.verify_sha256(f, "vggish", digest) == digest
    assert wt.verify_sha256(f, "vggish", digest[:12].upper()) == digest
    with pytest.raises(wt.WeightsError, match="not a SHA-256"):
        wt.verify_sha256(f, "vggish", "xyz")
    assert wt.parse_sha256_overrides([f"resnet18={digest}"]) == {"resnet18": digest}
    with pytest.raises(wt.WeightsError, match="KIND=HEX"):
        wt.parse_sha256_overrides([f"alexnet={digest}"])
    with pytest.raises(wt.WeightsError, match="not found"):
        wt.verify_sha256(tmp_path / "absent.pth", "resnet18")


def test_resnet_loader_accepts_torchvision_keys(tmp_path):
    torch.manual_seed(1)
    net = torchvision_resnet18()
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "resnet18.pth"
    torch.save(state, path)  # like the torchvision file: no num_batches_tracked entries
    model = wt.load_resnet18(path, sha256=sha(path))
    assert isinstance(model, ResNet18Maps) and not model.training
    torch.testing.assert_close(model.trunk[0].weight, net.conv1.weight)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        maps, pooled = model(x)
        # the same weights through torchvision's own layers, layer4 without its stride
        net.eval()
        net.layer4[0].conv1.stride = net.layer4[0].downsample[0].stride = (1, 1)
        h = net.layer3(net.layer2(net.layer1(net.maxpool(net.relu(net.bn1(net.conv1(x)))))))
        ref = net.layer4(h)
    assert maps.shape == (1, 512, 14, 14) and pooled.shape == (1, 512)
    torch.testing.assert_close(maps, ref)
    torch.testing.assert_close(pooled, ref.mean(dim=(2, 3)))


def test_resnet_loader_rejects_a_wrong_state_dict(tmp_path):
    state = torchvision_resnet18().state_dict()
    del state["layer3.1.conv2.weight"]
    state["layer4.0.conv1.weight"] = torch.zeros(512, 256, 1, 1)
    state["head.weight"] = torch.zeros(3)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(wt.WeightsError) as err:
        wt.load_resnet18(path, sha256=sha(path))
    message = str(err.value)
    assert "not a torchvision ResNet-18 state dict" in message and str(path) in message
    assert "missing keys (1): layer3.1.conv2.weight" in message
    assert "unexpected keys (1): head.weight" in message
    assert "layer4.0.conv1.weight: (512, 256, 1, 1) instead of (512, 256, 3, 3)" in message


def test_vggish_layout_matches_the_port_and_flattens_channels_last(vggish_file):
    model, path, digest = vggish_file
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == PORT_VGGISH_KEYS
    loaded = wt.load_vggish(path, sha256=digest)
    x = torch.randn(3, 96, 64)
    with torch.no_grad():
        out = loaded(x)
        # the port's forward, spelled out: conv stack, NCHW -> NHWC by two transposes, flatten, fc
        h = model.features(x.unsqueeze(1))
        h = torch.transpose(torch.transpose(h, 1, 3), 1, 2).contiguous().view(3, -1)
        ref = model.embeddings(h)
    assert out.shape == (3, 128)
    torch.testing.assert_close(out, ref)
    assert (out >= 0).all()  # the port keeps the ReLU on the 128-d layer


def test_vggish_loader_rejects_a_resnet_state_dict(tmp_path):
    path = tmp_path / "resnet_as_vggish.pth"
    torch.save(torchvision_resnet18().state_dict(), path)
    with pytest.raises(wt.WeightsError, match=r"not a VGGish \(PyTorch port\) state dict[\s\S]*missing keys \(18\)"):
        wt.load_vggish(path, sha256=sha(path))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(wt.WeightsError, match="cannot read .*junk.pth as a PyTorch checkpoint"):
        wt.load_vggish(junk, sha256=sha(junk))


def test_pca_file_with_numpy_arrays_and_the_reference_postprocessing(tmp_path):
    rng = np.random.default_rng(0)
    vectors, means = rng.standard_normal((128, 128)) * 0.1, rng.standard_normal(128)
    path = tmp_path / "pca.pth"
    torch.save({"pca_eigen_vectors": vectors, "pca_means": means}, path)  # numpy, means [128]
    post = wt.load_pca(path, sha256=sha(path))
    emb = rng.standard_normal((5, 128)) * 3
    codes = post(torch.tensor(emb, dtype=torch.float32)).numpy()
    # the reference: PCA, clip to [-2, 2], 8-bit codes
    pca = (vectors @ (emb.T - means[:, None])).T
    expected = np.round((np.clip(pca, -2, 2) + 2) * (255 / 4))
    assert np.abs(codes - expected).max() <= 1  # float32 vs float64 may round a code differently
    assert codes.min() >= 0 and codes.max() <= 255 and np.all(codes == np.round(codes))
    torch.save({"pca_eigen_vectors": vectors}, path)
    with pytest.raises(wt.WeightsError, match="missing keys \\(1\\): pca_means"):
        wt.load_pca(path, sha256=sha(path))


def test_vggish_with_pca_emits_codes(vggish_file, tmp_path):
    _, vggish_path, digest = vggish_file
    pca_path = tmp_path / "p.pth"
    torch.save(Postprocessor().state_dict(), pca_path)  # identity PCA, zero means, as tensors
    model = wt.load_vggish(vggish_path, digest, pca_path, sha(pca_path))
    x = torch.randn(2, 96, 64)
    with torch.no_grad():
        codes = model(x)
        model.pproc = None
        raw = model(x)
    # identity PCA: the codes are the clipped raw embeddings on the 8-bit grid
    torch.testing.assert_close(codes, torch.round((raw.clamp(-2, 2) + 2) * 255 / 4))
