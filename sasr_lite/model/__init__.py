"""SaSR-Net, one module per block of the paper (sections 3.1-3.6)."""

from sasr_lite.model.answer import AnswerHead
from sasr_lite.model.encoders import AudioProjection, QuestionEncoder, VisualProjection
from sasr_lite.model.sasr import CrossAttention, SaSRBlock, SaSRBranch
from sasr_lite.model.sasrnet import SaSRNet, SaSROutput
from sasr_lite.model.slt import SourceTokens, self_attention
from sasr_lite.model.spatial import MatchHead, SpatialAttention
from sasr_lite.model.temporal import TemporalAttention

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
    "self_attention",
]
