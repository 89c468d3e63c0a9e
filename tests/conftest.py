"""Fixtures shared by the training and evaluation tests."""

from __future__ import annotations

import pytest

from sasr_lite.synth.generate import generate
from sasr_lite.data.loading import load_data
from sasr_lite.device import cpu_threads


@pytest.fixture(scope="module")
def one_thread():
    """The tiny models run fastest on one CPU thread (see device.cpu_threads)."""
    with cpu_threads(1):
        yield


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """The tiny synthetic benchmark, generated once per test session, all three splits loaded."""
    root = generate(tmp_path_factory.mktemp("synth") / "tiny", size="tiny", seed=0)
    return load_data(root, splits=("train", "val", "test"))
