"""SaSR-Net's training losses as named parts: L = L_avqa + l1 L_source + l2 L_reg + l3 L_match."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sasr_lite.config import SaSRConfig
from sasr_lite.model.sasrnet import SaSROutput
from sasr_lite.model.shapes import check_shape

UNKNOWN_ANSWER = -1  # answers missing from the train vocabulary; they carry no L_avqa signal


def sasr_losses(
    output: SaSROutput, answer: torch.Tensor, sources: torch.Tensor, config: SaSRConfig
) -> dict[str, torch.Tensor]:
    """output of SaSRNet, answer [B] long (-1 = unknown, ignored), sources [B, C] multi-hot
    -> dict of scalar tensors "avqa", "source", "reg", "match", "total"."""
    B, A = output.answer_logits.shape
    C = output.presence_a.shape[1]
    sizes = {"B": B}
    check_shape("answer", answer, ("B",), sizes)
    check_shape("sources", sources, ("B", C), sizes)
    if answer.is_floating_point():
        raise ValueError(f"answer must hold integer answer indices, got dtype {answer.dtype}")
    if ((answer < UNKNOWN_ANSWER) | (answer >= A)).any():
        raise ValueError(f"answer indices must lie in [-1, {A}), got {answer.tolist()}")
    sources = sources.to(output.presence_a.dtype)

    # (3.6) L_avqa = CE(answer logits, answer), averaged over the known answers only
    known = (answer != UNKNOWN_ANSWER).sum().clamp_min(1)
    avqa = F.cross_entropy(output.answer_logits, answer, ignore_index=UNKNOWN_ANSWER, reduction="sum") / known

    # (3.3) L_source = BCE(sigmoid(FC(G^a')), p) + BCE(sigmoid(FC(G^v')), p)
    source = F.binary_cross_entropy_with_logits(output.presence_a, sources) + F.binary_cross_entropy_with_logits(
        output.presence_v, sources
    )

    # (3.3) L_reg = CE(FC(g_i), i): token i must classify as class i
    classes = torch.arange(output.token_logits.shape[0], device=output.token_logits.device)
    reg = F.cross_entropy(output.token_logits, classes)

    # (3.4) L_match = CE(matched pairs, 1) + CE(mismatched pairs, 0), averaged over B and T
    if output.match_logits_neg is None:
        match = output.match_logits.new_zeros(())
    else:
        pos = output.match_logits.reshape(-1, 2)
        neg = output.match_logits_neg.reshape(-1, 2)
        match = F.cross_entropy(pos, pos.new_ones(len(pos), dtype=torch.long)) + F.cross_entropy(
            neg, neg.new_zeros(len(neg), dtype=torch.long)
        )

    # (3.6) L = L_avqa + lambda_1 L_source + lambda_2 L_reg + lambda_3 L_match
    total = avqa + config.lambda_source * source + config.lambda_reg * reg + config.lambda_match * match
    return {"avqa": avqa, "source": source, "reg": reg, "match": match, "total": total}
