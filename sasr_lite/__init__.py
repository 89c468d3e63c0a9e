"""sasr-lite: a compact, notebook-first implementation of SaSR-Net for audio-visual QA."""

from sasr_lite.config import SaSRConfig

__version__ = "0.1.0"
__all__ = ["SaSRConfig", "__version__"]
