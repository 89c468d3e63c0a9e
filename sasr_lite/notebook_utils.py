"""Helpers the notebooks share: one-line verdicts, fast-mode sizes, cached data and checkpoints.

- `cmp(name, derived, package)`: a notebook re-derives a block in a few lines of tensor code and
  checks the package gives the same numbers. The printed line is stable across machines (it names
  the tolerance, not the float difference), so the cell can carry ``# NBVAL_CHECK_OUTPUT``.
- `sizes(scale)`: every size a notebook picks at the test, lesson or paper scale (`sasr_lite.presets`).
- `notebook_data(sizes, DATA)`: the DATA parameter, else ``$SASR_LITE_DATA`` (prepared MUSIC-AVQA),
  else ``notebooks/data/synth-<size>``, generated once (and again when the generator's code changes).
- `lesson_model(sizes, data)`: the one trained model every notebook shows (``runs/<scale>/sasr``),
  trained by the first notebook that needs it; `load_or_train` / `load_or_train_many` reuse a
  finished checkpoint written with the same settings, else train.
- `run_accuracies(runs, data)`: each run's overall test accuracy, recorded in its folder
  (``test_result.json``), the evidence an experiment exercise's answer names.
Paths are relative to the notebooks' working directory (``notebooks/``, as nbval runs them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.device import pick_device
from sasr_lite.presets import Preset, preset
from sasr_lite.scale import resolve_scale
from sasr_lite.synth.cache import ensure_benchmark

DATA_ENV = "SASR_LITE_DATA"  # a prepared MUSIC-AVQA folder for notebooks 08-11 instead of the synthetic benchmark
AVQA_YANG_DATA_ENV = "SASR_LITE_AVQA_YANG_DATA"  # a prepared AVQA-Yang folder for notebook 13
TEST_RESULT = "test_result.json"  # a run's recorded overall test accuracy (`record_test_accuracy`)


def _as_tensor(x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu()
    return torch.tensor(np.array(x, dtype=np.float32))  # a copy: inputs may be read-only views


def cmp(name: str, derived, package, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Assert the inline re-derivation ``derived`` matches the package's ``package`` output.

    Prints one line, e.g. ``ok  S(f)     shape [2, 32, 16]  allclose(atol=1e-05)``.
    Raises ``AssertionError`` naming the shapes or the largest difference when they disagree.
    """
    a, b = _as_tensor(derived), _as_tensor(package)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: derived shape {list(a.shape)} != package shape {list(b.shape)}")
    if not torch.allclose(a, b, atol=atol, rtol=rtol):
        diff = (a - b).abs().max().item()
        raise AssertionError(f"{name}: max |derived - package| = {diff:.3g} > atol={atol:g}")
    print(f"ok  {name:<28} shape {list(a.shape)}  allclose(atol={atol:g})")


def sizes(scale: str | None = None) -> Preset:
    """The preset (`sasr_lite.presets`) of ``scale``, resolved by `sasr_lite.scale.resolve_scale`
    (None reads $SASR_LITE_SCALE): every size a notebook picks."""
    return preset(resolve_scale(scale))


def notebook_data(sizes: Preset, data: str | Path | None = None) -> Path:
    """The benchmark folder a notebook reads: ``data`` (the DATA parameter), else ``$SASR_LITE_DATA``
    (a MUSIC-AVQA folder prepared by data_scripts/: avqa-{split}.json and store/{split}/), else this
    scale's synthetic benchmark (generated on first use)."""
    source = "DATA" if data else DATA_ENV
    data = data or os.environ.get(DATA_ENV)
    if not data:
        return synthetic_benchmark(sizes.synth_size)
    path = Path(data).expanduser()
    if not (path / "avqa-train.json").is_file():
        raise FileNotFoundError(f"{source}={data}: no avqa-train.json there; point it at a folder prepared by "
                                "data_scripts/prepare_music_avqa.py (avqa-{train,val,test}.json and store/)")
    return path


def ablation_data(sizes: Preset, data: str | Path | None = None, cues="lesson") -> Path:
    """Notebook 10's benchmark: ``data`` or ``$SASR_LITE_DATA`` (real MUSIC-AVQA, as `notebook_data`),
    else ``sizes.ablation_size``'s synthetic benchmark drawn with ``cues`` (default: the "lesson"
    cues, pooled shortcuts off; synth/cues.py), generated on first use."""
    if data or os.environ.get(DATA_ENV):
        return notebook_data(sizes, data)
    return synthetic_benchmark(sizes.ablation_size, cues=cues)


def avqa_yang_data(sizes: Preset, data: str | Path | None = None) -> Path:
    """Notebook 13's AVQA-Yang folder: ``data`` (its DATA parameter), else ``$SASR_LITE_AVQA_YANG_DATA``
    (prepared by data_scripts/prepare_avqa_yang.py: {split}_qa.json and store/{split}/), else this
    scale's synthetic AVQA-Yang (generated on first use)."""
    source = "DATA" if data else AVQA_YANG_DATA_ENV
    data = data or os.environ.get(AVQA_YANG_DATA_ENV)
    if not data:
        return synthetic_benchmark(sizes.avqa_size, dataset="avqa-yang")
    path = Path(data).expanduser()
    if not (path / "train_qa.json").is_file():
        raise FileNotFoundError(f"{source}={data}: no train_qa.json there; point it at a folder prepared by "
                                "data_scripts/prepare_avqa_yang.py ({train,val}_qa.json and store/)")
    return path


def run_root(sizes: Preset, data) -> Path:
    """This scale's run folder for ``data`` (a `TrainData`): ``runs/<scale>`` on the synthetic benchmark,
    ``runs/<scale>/<release>`` on real annotations, so the two never share checkpoints."""
    return sizes.runs if data.release == "synthetic" else sizes.runs / data.release


def cue_suffix(size: str, cues=None) -> str:
    """"" for the size's own cues, else "-<knob>-on/off" for each knob that differs from them."""
    from sasr_lite.synth.cues import resolve_cues
    from sasr_lite.synth.generate import preset_cues

    if cues is None:
        return ""
    preset, wanted = preset_cues(size).to_dict(), resolve_cues(cues).to_dict()
    return "".join(f"-{k}-{'on' if v else 'off'}" for k, v in wanted.items() if v != preset[k])


def synthetic_benchmark(size: str, root: str | Path = "data", seed: int = 0, dataset: str = "music-avqa",
                        cues=None, bias: float = 0.0, rephrasings: int = 0) -> Path:
    """``root/synth-{size}`` (MUSIC-AVQA) or ``root/synth-avqa-yang-{size}``, generated on first use
    and again when stale (`sasr_lite.synth.cache.ensure_benchmark`: other settings or other
    generator code). MUSIC-AVQA only: ``cues``, other cues than the size's preset (a `Cues`, preset
    name or dict of knobs), in a folder named after the knobs that differ; ``bias`` and
    ``rephrasings`` (notebook 14: `sasr_lite.synth.generate.generate`) add ``-bias{b}`` and
    ``-r{k}`` to the folder name."""
    yang = dataset == "avqa-yang"
    options = cue_suffix(size, cues) + (f"-bias{bias:g}" if bias else "") + (f"-r{rephrasings}" if rephrasings else "")
    path = Path(root) / (f"synth-avqa-yang-{size}" if yang else f"synth-{size}{options}")
    return ensure_benchmark(path, size, seed=seed, dataset=dataset, cues=cues, bias=bias, rephrasings=rephrasings)


def _reusable(path: Path, data, model_config: SaSRConfig, train_config: TrainConfig):
    """The model in ``path`` (eval mode, with its Checkpoint) when a finished run wrote it with these
    configs, vocabularies and train annotations; else None, printing why it is not reused."""
    from sasr_lite.checkpoint import CheckpointError, load_checkpoint
    from sasr_lite.evaluate import load_model
    from sasr_lite.data.loading import sized_for

    if not path.is_file():
        return None
    expected = sized_for(model_config, data)
    # the convergence rule's fields only when it is on, so runs written before it existed stay reusable
    stopping = train_config.stopping() if train_config.converge_gain is not None else {"epochs": train_config.epochs}
    try:
        ckpt = load_checkpoint(path, model_config=expected, vocabularies=data.vocabularies,
                               train_config={**train_config.trajectory(), **stopping})
    except CheckpointError as err:
        print(f"not reusing {path}: " + " ".join(line.strip() for line in str(err).splitlines()[:2]))
        return None
    if ckpt.epoch + 1 != train_config.epochs and not run_converged(ckpt.history):
        print(f"not reusing {path}: it stopped after epoch {ckpt.epoch + 1} of {train_config.epochs}")
        return None
    trained_on = ckpt.extra.get("annotations", {}).get("train", {}).get("sha256")
    if trained_on != data.annotations["train"]["sha256"]:
        print(f"not reusing {path}: it was trained on other annotations than {data.annotations['train']['path']}")
        return None
    return load_model(path, train_config.device)


def run_converged(history) -> bool:
    """Whether a run's last epoch met its convergence rule (TrainConfig.converge_gain); ``history``
    is its per-epoch rows (a list of dicts or a DataFrame). False for runs without the rule."""
    rows = history.to_dict("records") if hasattr(history, "to_dict") else list(history)
    return bool(rows) and bool(rows[-1].get("converged", False))


def load_or_train(
    run_dir: str | Path, data, model_config: SaSRConfig, train_config: TrainConfig, retrain: bool = False
):
    """(model in eval mode, history DataFrame): reuse ``run_dir/checkpoint.pt`` when it was written
    by a finished run with these configs, vocabularies and train annotations, else train and write it there."""
    import pandas as pd

    from sasr_lite.train import train

    path = Path(run_dir) / "checkpoint.pt"
    found = None if retrain else _reusable(path, data, model_config, train_config)
    if found is not None:
        model, ckpt = found
        print(f"loaded {path} (trained {ckpt.epoch + 1} epochs)")
        return model, pd.DataFrame(ckpt.history)
    # a run there that is not reused (another config, unfinished) is moved aside, not deleted
    result = train(data, model_config, train_config, out_dir=run_dir, overwrite=True)
    return result.model, result.history


def lesson_model(sizes: Preset, data, retrain: bool = False):
    """(model, history) of the one trained model the notebooks share: ``run_root/sasr``, trained with
    ``sizes.model`` and ``sizes.train`` by whichever notebook needs it first (with a progress bar),
    reused by every later one."""
    device = str(pick_device())
    return load_or_train(run_root(sizes, data) / "sasr", data, sizes.model, sizes.train.replace(device=device),
                         retrain=retrain)


def check_trained_on(run_dir: str | Path, data) -> str:
    """Assert the run in ``run_dir`` was trained on ``data``'s train annotations; returns a one-line
    description of the release (printed by notebooks 09-11, which read notebook 08's model)."""
    from sasr_lite.checkpoint import load_checkpoint

    ckpt = load_checkpoint(Path(run_dir) / "checkpoint.pt")
    recorded = ckpt.extra.get("annotations", {}).get("train", {})
    ours = data.annotations["train"]
    if recorded.get("sha256") != ours["sha256"]:
        raise AssertionError(f"{run_dir} was trained on {recorded.get('path')} ({recorded.get('release')}), "
                             f"not on {ours['path']} ({ours['release']}): retrain it (notebook 08)")
    return f"annotations: {data.release} release, train {ours['records']} questions (sha256 {ours['sha256'][:12]})"


@dataclass(frozen=True)
class Run:
    """One training run of a notebook's batch (`load_or_train_many`)."""

    run_dir: Path
    model: SaSRConfig
    train: TrainConfig


def ablation_run(sizes: Preset, data, name: str, seed: int, model_changes: dict | None = None,
                 train_changes: dict | None = None) -> Run:
    """Notebook 10's run of the variant ``name`` (SaSRConfig ``model_changes``, TrainConfig
    ``train_changes``) with ``seed``, on ``sizes.ablation``'s schedule: the exercises of other
    notebooks ask for the same runs, so each trains once. When that schedule is the lesson model's
    (the paper scale), the unchanged model is notebook 08's."""
    train = sizes.ablation.replace(device=str(pick_device()), seed=seed, **(train_changes or {}))
    same_schedule = train.trajectory() == sizes.train.trajectory() and train.epochs == sizes.train.epochs
    if same_schedule and not model_changes:  # at the paper scale: notebook 08's model itself
        return Run(run_root(sizes, data) / "sasr", sizes.model, train)
    folder = run_root(sizes, data) / "ablations" / name.replace(", ", "+").replace(" ", "_") / f"seed{seed}"
    return Run(folder, sizes.model.replace(**(model_changes or {})), train)


def experiment_run(sizes: Preset, data, name: str, seed: int, model_changes: dict | None = None) -> Run:
    """Notebook 10's run of the variant ``name`` (``sizes.experiment_model`` with SaSRConfig
    ``model_changes``) with ``seed`` on the benchmark ``data``, trained until converged
    (``sizes.experiment``); in ``runs/<scale>/experiments/<benchmark folder>/<name>/seed<k>``."""
    train = sizes.experiment.replace(device=str(pick_device()), seed=seed)
    folder = sizes.runs / "experiments" / Path(data.root).name / name / f"seed{seed}"
    return Run(folder, sizes.experiment_model.replace(**(model_changes or {})), train)


def overall_test_accuracy(model, data, name: str = "model", run_dir: str | Path | None = None) -> float:
    """Overall test accuracy (%) of ``model`` on ``data`` (a `TrainData` with the test split). With
    ``run_dir``, the run the model was loaded from, it is also recorded there (`record_test_accuracy`)."""
    from sasr_lite.evaluate import evaluate_split

    accuracy = float(evaluate_split(model, data, "test", name=name, grade=False).table[("Overall", "Avg")].iloc[0])
    if run_dir is not None:
        record_test_accuracy(run_dir, accuracy, data)
    return accuracy


def record_test_accuracy(run_dir: str | Path, accuracy: float, data) -> Path:
    """Write ``run_dir/test_result.json``: the overall test accuracy, the test annotations it was
    measured on and the SHA-256 of the run's checkpoint.pt, so an experiment's grader
    (`sasr_lite.labs.experiment`) can tell the number belongs to that checkpoint and test set."""
    from sasr_lite.data.files import sha256_file, write_json_atomic

    checkpoint = Path(run_dir) / "checkpoint.pt"
    return write_json_atomic(Path(run_dir) / TEST_RESULT, {
        "overall": accuracy, "annotations": data.annotations["test"],
        "checkpoint": {"path": checkpoint.name, "sha256": sha256_file(checkpoint)}})


def run_accuracies(runs: list[Run], data) -> list[float]:
    """The overall test accuracy (%) of each of ``runs`` (trained or reused by `load_or_train_many`),
    each recorded in its run folder: the evidence an experiment answer names."""
    return [overall_test_accuracy(model, data, run_dir=run.run_dir)
            for model, run in zip(load_or_train_many(runs, data), runs)]


def _train_in_subprocess(root: Path, store: Path, run: Run) -> float:
    """Train ``run`` in this (spawned) process on one thread; returns the seconds it took."""
    import time

    from sasr_lite.data.loading import load_data
    from sasr_lite.train import train

    start = time.perf_counter()
    data = load_data(root, store, splits=("train", "val"))
    train(data, run.model, run.train.replace(num_threads=1, progress=False, verbose=False), out_dir=run.run_dir,
          overwrite=True)  # only runs that are not reused get here: an old one is moved aside
    return time.perf_counter() - start


def load_or_train_many(runs: list[Run], data, workers: int | None = None) -> list:
    """The trained models (eval mode) of ``runs``, in order: finished runs are reused (as
    `load_or_train`), the others trained ``workers`` at a time in separate processes of one thread
    each (on a CPU two single-thread processes train about twice as fast as one process with two
    threads; default: one per CPU core, and one at a time on a GPU)."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from sasr_lite.evaluate import load_model

    models = {k: _reusable(r.run_dir / "checkpoint.pt", data, r.model, r.train) for k, r in enumerate(runs)}
    todo = [r for k, r in enumerate(runs) if models[k] is None]
    if todo:
        device = pick_device(runs[0].train.device)
        workers = workers or (1 if device.type == "cuda" else max(1, min(len(todo), os.cpu_count() or 1)))
        print(f"training {len(todo)} of {len(runs)} runs, {workers} at a time ...", flush=True)
        start = time.perf_counter()
        store = data.stores["train"].path.parent
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_train_in_subprocess, data.root, store, r): r for r in todo}
            for done, future in enumerate(as_completed(futures), 1):
                seconds = future.result()
                print(f"  [{done}/{len(todo)}] {futures[future].run_dir} ({seconds:.0f} s)", flush=True)
        print(f"trained in {time.perf_counter() - start:.0f} s", flush=True)
    return [(models[k] or load_model(r.run_dir / "checkpoint.pt", r.train.device))[0] for k, r in enumerate(runs)]
