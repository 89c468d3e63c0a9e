"""SaSR-Net, one module per block of the paper (sections 3.1-3.6), and `build_model`, the one
place that picks the network a config asks for."""

from torch import nn

from sasr_lite.config import SaSRConfig

from sasr_lite.model.answer import AnswerHead
from sasr_lite.model.encoders import AudioProjection, QuestionEncoder, VisualProjection
from sasr_lite.model.sasr import CrossAttention, SaSRBlock, SaSRBranch
from sasr_lite.model.sasrnet import SaSRNet, SaSROutput
from sasr_lite.model.slt import SourceTokens, self_attention
from sasr_lite.model.spatial import MatchHead, SpatialAttention
from sasr_lite.model.temporal import TemporalAttention



def build_model(config: SaSRConfig) -> nn.Module:
    """The network ``config.arch`` names: "paper" -> `SaSRNet`, "official" -> `OfficialSaSRNet`
    (65,117,283 parameters at the paper's sizes, as the paper counts them: the ResNet-18 it holds but
    never runs included; it gets no gradient, so it costs memory, not optimiser state).

    Both take the same inputs and return `SaSROutput`; train, evaluate, bench, the probe, the demo
    and the notebooks build models only through here."""
    if config.arch == "official":
        from sasr_lite.model.official import OfficialSaSRNet  # imported when asked for

        return OfficialSaSRNet(config)
    return SaSRNet(config)


__all__ = [
    "AnswerHead",
    "AudioProjection",
    "CrossAttention",
    "MatchHead",
    "QuestionEncoder",
    "SaSRBlock",
    "SaSRBranch",
    "SaSRNet",
    "SaSROutput",
    "SourceTokens",
    "SpatialAttention",
    "TemporalAttention",
    "VisualProjection",
    "build_model",
    "self_attention",
]
