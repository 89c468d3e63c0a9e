"""One training step of SaSR-Net, the part of `sasr_lite.train` a learner should read line by line.

Notebook 08 shows `train_step` and runs it by hand. `sasr_lite.train` calls the same function for
every batch and wraps it with what a long run needs: shuffling and negatives per epoch, validation,
checkpoints, the non-finite stop, progress bars and DDP.

A batch is the `Batch` `BatchLoader` yields (`sasr_lite.data.batch`): per question `question`
[B, L] and `answer` [B]; per video `audio` [V, T, 128], `visual` [V, T, 512], `visual_maps`
[V, T, P, 512] and `sources` [V, C]; `video_of` [B], the row of each question's video (V <= B:
questions of one video share its rows); `visual_neg` / `visual_maps_neg`, another video's features
for the matching loss.
"""

from __future__ import annotations

import torch

from sasr_lite.config import SaSRConfig
from sasr_lite.data.batch import Batch, model_inputs
from sasr_lite.device import autocast
from sasr_lite.losses import sasr_losses


def forward_losses(model: torch.nn.Module, batch: Batch, model_config: SaSRConfig, negatives: bool = True,
                   precision: str = "auto"):
    """(output, losses): the forward pass and the four losses of docs/design.md §3.6 under autocast.

    ``losses`` maps "avqa", "source", "reg", "match" to scalars and "total" to
    L_avqa + lambda_1 L_source + lambda_2 L_reg + lambda_3 L_match. Without ``negatives`` the
    matching loss has no negative pairs to score (validation-like forward).
    """
    device = batch["answer"].device
    with autocast(device, precision):  # bf16 on CUDA, fp32 on a CPU unless asked (sasr_lite.device)
        output = model(**model_inputs(batch, negatives))
        losses = sasr_losses(output, batch["answer"], batch["sources"], model_config)
    return output, losses


def train_step(model: torch.nn.Module, batch: Batch, optimizer: torch.optim.Optimizer, model_config: SaSRConfig,
               negatives: bool = True, precision: str = "auto"):
    """One optimisation step on ``batch``; returns (output, losses) for the caller's bookkeeping.

    1. forward: SLT tokens, SaSR, spatial and temporal attention, the answer head (notebooks 03-07);
    2. the total loss, a weighted sum of four parts (notebook 07);
    3. backward: one gradient for every parameter of every block;
    4. Adam moves each parameter against its gradient (the learning rate is the scheduler's, per epoch).
    """
    model.train()  # dropout on
    output, losses = forward_losses(model, batch, model_config, negatives, precision)  # 1, 2
    optimizer.zero_grad(set_to_none=True)  # gradients accumulate in .grad unless cleared
    losses["total"].backward()  # 3
    optimizer.step()  # 4
    return output, losses
