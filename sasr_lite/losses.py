"""SaSR-Net's training losses as named parts: L = L_avqa + l1 L_source + l2 L_reg + l3 L_match."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sasr_lite.config import SaSRConfig
from sasr_lite.model.sasrnet import SaSROutput
from sasr_lite.model.shapes import check_shape, reads_values

UNKNOWN_ANSWER = -1  # answers missing from the train vocabulary; they carry no L_avqa signal


def sasr_losses(
    output: SaSROutput, answer: torch.Tensor, sources: torch.Tensor, config: SaSRConfig
) -> dict[str, torch.Tensor]:
    """output of SaSRNet, answer [B] long (-1 = unknown, ignored), sources [V, C] multi-hot (one
    row per video row of the forward pass; V = B without ``video_of``)
    -> dict of scalar tensors "avqa", "source", "reg", "match", "total".

    For the official network these are its training script's terms under our names (``loss =
    loss_qa + 0.5 loss_match + 0.5 loss_semantic + 0.5 loss_cor``): avqa is its loss_qa, source its
    loss_semantic (BCE of the audio plus the visual presence), reg its loss_cor, and match its
    loss_match, one CE over the positive and negative rows together, i.e. half our L_match (the
    network says so in ``output.match_weight``). The weights are SaSRConfig's lambdas, 0.5 each, as
    there."""
    B, A = output.answer_logits.shape
    V, C = output.presence_a.shape
    check_shape("answer", answer, ("B",), {"B": B})
    check_shape("sources", sources, ("B" if V == B else "V", C), {"B": B, "V": V})
    if answer.is_floating_point():
        raise ValueError(f"answer must hold integer answer indices, got dtype {answer.dtype}")
    if reads_values(answer) and ((answer < UNKNOWN_ANSWER) | (answer >= A)).any():
        raise ValueError(f"answer indices must lie in [-1, {A}), got {answer.tolist()}")
    sources = sources.to(output.presence_a.dtype)
    # the per-video losses weigh each video by its number of questions in the batch: the loss
    # is then exactly the per-question one, however the questions were grouped into videos
    if output.video_of is None:
        per_video = torch.full((V,), 1.0 / V, device=answer.device)
    else:
        # index_add_, not bincount: bincount's output size depends on the values (a GPU host sync)
        ones = torch.ones(B, device=answer.device)
        per_video = torch.zeros(V, device=answer.device).index_add_(0, output.video_of, ones) / B

    # (3.6) L_avqa = CE(answer logits, answer), averaged over the known answers only
    known = (answer != UNKNOWN_ANSWER).sum().clamp_min(1)
    avqa = F.cross_entropy(output.answer_logits, answer, ignore_index=UNKNOWN_ANSWER, reduction="sum") / known

    # (3.3) L_source = BCE(sigmoid(FC(G^a')), p) + BCE(sigmoid(FC(G^v')), p)
    source = sum(
        (F.binary_cross_entropy_with_logits(logits, sources, reduction="none").float().mean(-1) * per_video).sum()
        for logits in (output.presence_a, output.presence_v)
    )

    # (3.3) L_reg = CE(FC(g_i), i): token i must classify as class i
    classes = torch.arange(output.token_logits.shape[0], device=output.token_logits.device)
    reg = F.cross_entropy(output.token_logits, classes)

    # (3.4) L_match = CE(matched pairs, 1) + CE(mismatched pairs, 0), averaged over T and questions
    if output.match_logits_neg is None:
        match = output.match_logits.new_zeros(())
    else:
        match = sum(
            F.cross_entropy(logits.transpose(1, 2), logits.new_full(logits.shape[:2], target, dtype=torch.long),
                            reduction="none").float().mean(-1).mul(per_video).sum()
            for logits, target in ((output.match_logits, 1), (output.match_logits_neg, 0))
        )
        match = match * output.match_weight  # 1, or 1/2 for the official network's single CE

    # (3.6) L = L_avqa + lambda_1 L_source + lambda_2 L_reg + lambda_3 L_match
    total = avqa + config.lambda_source * source + config.lambda_reg * reg + config.lambda_match * match
    return {"avqa": avqa, "source": source, "reg": reg, "match": match, "total": total}
