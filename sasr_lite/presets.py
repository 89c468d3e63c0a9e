"""The named presets: the model, the training schedules and the benchmark sizes of each scale
(`sasr_lite.scale`), defined once. The notebooks' scale switch (`notebook_utils.sizes`), the demo,
`make gpu-check` and ``sasr-lite train DATA --preset NAME`` all read them.

- ``test``: a tiny model trained for seconds on 60 synthetic videos, a smoke run for `make test`.
- ``lesson``: the demo's benchmark and model width (d_model = word_dim = 128 instead of 512; every
  block and loss is the paper's), and a CPU schedule of a few minutes.
- ``paper``: the paper's sizes and recipe (docs/design.md section 4.1: batch 16, 80 epochs, Adam
  1e-4, x0.3 every 16 epochs: `TrainConfig`'s and `SaSRConfig`'s defaults) on the full-scale
  synthetic benchmark (GPU).

The synthetic benchmarks a preset names (``synth_size``, ``ablation_size``, ``avqa_size``) are the
sizes of `sasr_lite.synth.presets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sasr_lite.config import SaSRConfig, TrainConfig


@dataclass(frozen=True)
class Preset:
    """Every size and schedule of one scale, in one place."""

    scale: str  # its name: "test", "lesson" or "paper"
    synth_size: str  # synthetic benchmark: "tiny" (60 videos), "small" (1,000) or "full" (MUSIC-AVQA's scale)
    model: SaSRConfig  # vocabulary and answer sizes are replaced by the train split's (data.loading.sized_for)
    train: TrainConfig  # the lesson model: trained by 08 (or the first notebook that needs it), reused by all
    demo: TrainConfig | None  # `sasr-lite demo`'s two runs (None: the demo is a CPU lesson, no paper scale)
    ablation: TrainConfig  # each variant x seed of notebook 10
    ablation_seeds: tuple[int, ...]
    baseline_epochs: int  # the question-only baseline of notebook 09
    official: SaSRConfig  # notebook 12's port of the official network (D = 512: its grounding needs the map width)
    comparison: TrainConfig  # the schedule both networks get in notebook 12, with the ablation seeds
    avqa_size: str  # notebook 13's synthetic AVQA-Yang: "tiny", "small" or "full" (AVQA-Yang's scale)
    multiple_choice: TrainConfig  # notebook 13's SaSR-Net with the multiple-choice head
    ablation_size: str  # notebook 10's benchmark, drawn with the "lesson" cues (synth/cues.py)
    experiment: TrainConfig  # notebook 10's runs: each until converged (TrainConfig.converge_gain)
    # notebook 10's full model: ``model`` with the official code's SaSR residual (without it the paper's
    # f^g can forget which segment is which, docs/design.md 3.3) and sharper spatial attention
    experiment_model: SaSRConfig

    @property
    def runs(self) -> Path:
        """Where this scale's checkpoints go: ``runs/test``, ``runs/lesson`` or ``runs/paper`` (under notebooks/)."""
        return Path("runs") / self.scale

    @property
    def smoke(self) -> bool:
        """True at the test scale, whose trained numbers mean nothing (notebooks say so instead of reading them)."""
        return self.scale == "test"


def _test() -> Preset:
    # seconds of training need a larger learning rate than the paper's 1e-4 to move at all;
    # one thread: a tiny model gains nothing from two, and loses a lot on a busy machine
    train = TrainConfig(epochs=5, lr=3e-3, step_size=4, gamma=0.3, progress=True, tensorboard=False, num_threads=1)
    ablation = train.replace(epochs=2, max_batches=7, progress=False)
    return Preset(
        "test", "tiny", SaSRConfig.tiny(), train,
        demo=TrainConfig(epochs=2, batch_size=16, lr=3e-3, step_size=100, max_batches=4, tensorboard=False),
        ablation=ablation, ablation_seeds=(0,), baseline_epochs=5,
        official=SaSRConfig.tiny(arch="official", d_model=512),
        comparison=ablation.replace(epochs=1, max_batches=2, batch_size=8),
        avqa_size="tiny", multiple_choice=train.replace(epochs=2), ablation_size="tiny",
        experiment=ablation.replace(epochs=3, converge_gain=0.5),
        experiment_model=SaSRConfig.tiny(sasr_residual=True, spatial_temperature=0.1))


def _lesson() -> Preset:
    # the demo: 9 epochs at lr 5e-4 instead of the paper's 80 at 1e-4; group=8: batches of 32
    # questions about ~4-6 videos, so the video path runs ~6x less often
    demo = TrainConfig(epochs=9, batch_size=32, lr=5e-4, step_size=16, gamma=0.3, group=8, tensorboard=False)
    # The lesson model is the demo's SaSR-Net, seed 0, on two threads: about 1.4x one thread on an
    # idle 2-core CPU, and bit for bit the same from run to run at that fixed count (the video rows
    # are gathered with index_select, whose backward sums in a fixed order). One and two threads give
    # different last bits, and so do two CPU models. On a busy machine two threads can be many times
    # slower than one (each waits for the other at every parallel region), which is why runs trained
    # side by side (notebook 10, the demo) use one each.
    train = demo.replace(num_threads=2)
    # The lab exercises' runs (ablation_run: notebooks 05, 07, 08) and notebooks 12 and 14 get a third of
    # its epochs, without per-epoch validation: enough to move above the answer prior, not to converge.
    ablation = demo.replace(epochs=3, eval_every=0, progress=False)
    return Preset(
        "lesson", "small", SaSRConfig(d_model=128, word_dim=128), train, demo=demo,
        ablation=ablation, ablation_seeds=(0, 1, 2), baseline_epochs=4, official=SaSRConfig(arch="official"),
        # the official network trains 20-30x slower than the lesson model on a CPU: both get the
        # ablation schedule cut to 40 batches per epoch (3,840 questions), the same for both
        comparison=ablation.replace(max_batches=40),
        # notebook 13: the lesson model's width and schedule on the synthetic AVQA-Yang (small)
        avqa_size="small", multiple_choice=train, ablation_size="lesson",
        # notebook 10's experiments on the lesson benchmark: each run trains until its best validation
        # accuracy gains less than 0.5 points over three epochs, judged from the lesson model's 9 epochs
        # on (before that these runs sit on plateaus of 2-3 epochs and then climb again), at most 30.
        # Three, not two: validation on ~1,200 questions moves by 1-3 points from epoch to epoch, and a
        # two-epoch window stopped a run at 57% (epoch 12) that went on to 62% by epoch 15. Runs without
        # SLT and TA still stop on such plateaus (after 9 and 11 epochs, notebook 10); judging from
        # epoch 15 would mean retraining every run
        experiment=demo.replace(epochs=30, converge_gain=0.5, converge_window=3, converge_min_epochs=9, progress=False,
                                verbose=False),
        # temperature 0.1: the cosine scores of 196 cells lie in [-1, 1], and at temperature 1 the
        # weights on a sounding instrument's cells stayed near their uniform share (25% vs 20%)
        experiment_model=SaSRConfig(d_model=128, word_dim=128, sasr_residual=True, spatial_temperature=0.1))


def _paper() -> Preset:
    train = TrainConfig(tensorboard=False)  # the defaults are the paper's recipe
    return Preset(
        "paper", "full", SaSRConfig(), train, demo=None, ablation=train.replace(progress=False),
        ablation_seeds=(0, 1, 2), baseline_epochs=30, official=SaSRConfig(arch="official"),
        comparison=train.replace(progress=False), avqa_size="full", multiple_choice=train, ablation_size="full",
        experiment=train.replace(progress=False, converge_gain=0.5), experiment_model=SaSRConfig(sasr_residual=True))


PRESETS: dict[str, Preset] = {p.scale: p for p in (_test(), _lesson(), _paper())}


def preset(name: str) -> Preset:
    """The preset called ``name``; ValueError naming the known ones otherwise."""
    if name not in PRESETS:
        raise ValueError(f"no preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
