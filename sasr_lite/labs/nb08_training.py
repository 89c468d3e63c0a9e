"""Notebook 08 (training): the step schedule, the number of optimiser steps, a training setting."""

from __future__ import annotations

import math

import torch

from sasr_lite.config import TrainConfig
from sasr_lite.data.annotations import RELEASE_SIZES
from sasr_lite.labs.exercise import Exercise
from sasr_lite.labs.experiment import COUNT, FRACTION, POSITIVE, Experiment
from sasr_lite.labs.predict import Predict

EPOCH = 40  # counted from 0, as the training history counts them


def _lr_at(epoch: int) -> float:
    """The rate the paper's schedule (TrainConfig's defaults) uses in ``epoch``, by stepping torch's StepLR."""
    config = TrainConfig()
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step_size, gamma=config.gamma)
    for _ in range(epoch):
        optimizer.step()  # StepLR warns when it steps before the optimiser
        scheduler.step()
    return scheduler.get_last_lr()[0]


def _paper_steps() -> float:
    """Optimiser steps of the paper's recipe on the updated MUSIC-AVQA train split (last batch kept)."""
    config = TrainConfig()
    return float(config.epochs * math.ceil(RELEASE_SIZES["json_update"]["train"] / config.batch_size))


def _step_slips() -> dict[str, float]:
    config, questions = TrainConfig(), RELEASE_SIZES["json_update"]["train"]
    return {
        "you dropped the last, partial batch of each epoch; the kit's loader keeps it (drop_last=False).":
            float(config.epochs * (questions // config.batch_size)),
        "that is one epoch's steps; the recipe runs 80 epochs.": float(math.ceil(questions / config.batch_size)),
        "that counts one step per question; a step takes a batch of 16.": float(config.epochs * questions),
    }


LEARNING_RATE_SOLUTION = '''\
from sasr_lite.notebook_utils import ablation_run, run_accuracies

runs = [ablation_run(SIZES, data, "full model", 0), ablation_run(SIZES, data, "lr x4", 0, train_changes={"lr": 4 * SIZES.ablation.lr})]
before, after = run_accuracies(runs, data)  # each also recorded in its run folder, the evidence below
return dict(setting="lr", value=4 * SIZES.ablation.lr, before=before, after=after, explanation=(
    f"Four times the learning rate took seed 0 from {before:.1f}% to {after:.1f}% on the test split after the "
    "same short schedule. A larger step moves faster early, which helps a budget this short, but Adam's steps "
    "on the attention logits can overshoot and make the loss curve noisy; the StepLR decay comes too late "
    "here to calm it. One seed: compare with the spread in notebook 10 before trusting the sign."),
    baseline=str(runs[0].run_dir), run=str(runs[1].run_dir))
'''

EXERCISES = [
    Exercise(
        "08.lr_at_epoch", f"Predict the learning rate of the paper's schedule in epoch {EPOCH} (counted from 0).", 5,
        Predict(lambda: _lr_at(EPOCH),
                why="StepLR multiplies the rate by gamma = 0.3 after every 16 epochs: lr = 1e-4 x 0.3^(40 // 16) = "
                    "1e-4 x 0.09 = 9e-6; epochs 32-47 all run at it.",
                clue="lr_e = lr_0 x gamma^(e // step_size) with TrainConfig's defaults (lr 1e-4, step 16, gamma "
                     "0.3); count how many full steps of 16 epochs lie before epoch 40.",
                wrong=lambda: {"you rounded 40 / 16 up; the rate changes only after each full 16 epochs "
                               "(floor).": 1e-4 * 0.3 ** 3,
                               "that is the rate after one decay (epochs 16-31).": 1e-4 * 0.3,
                               "that is the starting rate; by epoch 40 it has decayed twice.": 1e-4},
                rel_tol=0.01),
        solution="return 1e-4 * 0.3 ** (40 // 16)  # StepLR: two decays by epoch 40",
    ),
    Exercise(
        "08.optimizer_steps",
        "Predict the optimiser steps of the paper's recipe on the 31,927 updated train questions.",
        5,
        Predict(_paper_steps,
                why="ceil(31,927 / 16) = 1,996 batches per epoch (the last one holds 7 questions), times 80 "
                    "epochs = 159,680 steps.",
                clue="Batches per epoch are the questions divided by the batch size of 16, rounded up because "
                     "the last, smaller batch is kept; then multiply by the 80 epochs.",
                wrong=_step_slips, rel_tol=0.0),
        solution="return 80 * math.ceil(31_927 / 16)  # 80 epochs of 1,996 batches (the last one partial)",
    ),
    Exercise(
        "08.learning_rate", "Experiment: change one training setting at lesson scale and explain the change.", 40,
        Experiment({"lr": POSITIVE, "epochs": COUNT, "batch_size": COUNT, "step_size": COUNT, "gamma": FRACTION},
                   measure="test accuracy (%)",
                   mention="what the loss curves did (faster or slower fall, a plateau, divergence), not only the "
                           "final accuracy; that the lesson schedule is already short, so fewer effective updates "
                           "(smaller lr, larger batches) can leave the model undertrained; that L_match leaving "
                           "2 ln 2 marks when the audio branch starts to help; and that one seed moves by a point "
                           "or two."),
        solution=LEARNING_RATE_SOLUTION,
    ),
]
