"""`sasr-lite bench`: how fast the model trains and infers, how close that is to this machine's limit,
and how fast the data path serves.

At MUSIC-AVQA shapes (T = 10 segments, P = 196 map positions, 512 channels, D = 512, the
paper-size model) on the current device, for batch sizes 16 and 64 (GPU) or 16 (CPU):

- model training samples/s: forward with negatives, the four losses, backward, Adam step;
- model inference samples/s: forward without negatives, no gradients;
- both again with the batch's questions about B / 5 videos (MUSIC-AVQA asks about 5 questions
  per video): the video path runs once per video (``video_of``), as `BatchLoader(group=...)`
  batches allow;
- data batches/s: `BatchLoader` gathering batches with negatives from a float16 feature
  store on disk (a temporary one filled with random values; warm page cache);
- the same training and inference rows for the lesson model (model "lesson": D = 128, the lesson
  preset's batch size and questions per video), the model the notebooks train on a CPU.

**The limit.** Each model row also gives the FLOP one sample costs (matrix products counted by
`torch.utils.flop_counter`, forward and backward for training) and this machine's matmul peak in
the row's precision, measured in the same run on a large square product. Their quotient is the
roofline: the samples/s the step would reach if it did nothing but multiply at peak speed;
``% roofline`` says how much of it the step gets. fp32 rows are always measured; bf16 rows on a
GPU, and on a CPU that multiplies bf16 in hardware (AVX512-BF16 or AMX).

**Same run, same machine.** Every model row is measured for the paper's model and for the official
network (the kit's port, `sasr_lite.model.official`), alternating in one process, each keeping its
best round; the bench prints their ratio. Speeds from different machines are not comparable
(machines here differ by about 2x), so no ratio uses a number measured elsewhere. A row whose
rounds differ by more than 25% (another process took the cores, say) is flagged *noisy*, and no
ratio is printed for it. ``--released DIR`` adds the authors' released code itself (a checkout the
user made, `sasr_lite.released_code`) to the same alternation.
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from sasr_lite.cli import at_least
from sasr_lite.config import SaSRConfig
from sasr_lite.data.annotations import parse_record
from sasr_lite.data.batch import model_inputs
from sasr_lite.data.dataset import AVQADataset, BatchLoader
from sasr_lite.data.store import FeatureStore
from sasr_lite.data.store_writer import StoreWriter
from sasr_lite.data.vocab import build_vocabularies
from sasr_lite.device import autocast, cpu_has_bf16, cpu_threads, keep_freed_memory, maps_dtype, pick_device
from sasr_lite.model import build_model
from sasr_lite.presets import preset
from sasr_lite.released_code import load_released, released_steps
from sasr_lite.step import train_step
from sasr_lite.train import build_optimizer

T, P, AUDIO_DIM, VISUAL_DIM, L = 10, 196, 128, 512, 14
FORMAT = "sasr-lite-bench"  # what a --json result file says it is
NOISY = 1.25  # rounds of one row further apart than this (max / min) make it noisy


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(step, steps: int, warmup: int, device: torch.device, min_seconds: float = 0.0) -> float:
    """Seconds per call of ``step`` after ``warmup`` untimed calls: at least ``steps`` calls, and
    more until ``min_seconds`` have passed (a short window is at the mercy of one stray stall)."""
    for _ in range(warmup):
        step()
    _sync(device)
    start, calls = time.perf_counter(), 0
    while True:  # windows of ``steps`` calls, synchronised once each (a GPU keeps its queue full)
        for _ in range(steps):
            step()
        calls += steps
        _sync(device)
        if time.perf_counter() - start >= min_seconds:
            return (time.perf_counter() - start) / calls


def matmul_peak(dtype: torch.dtype, device: torch.device, size: int = 2048, seconds: float = 0.5) -> float:
    """GFLOP/s of ``size`` x ``size`` matrix products in ``dtype`` on ``device`` (the best of a few
    timed windows): the machine's ceiling for the matmul-bound part of a training step."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    flop = 2.0 * size**3
    best = 0.0
    for _ in range(3):
        per_call = _timed(lambda: torch.mm(a, b), steps=2, warmup=1, device=device, min_seconds=seconds / 3)
        best = max(best, flop / per_call / 1e9)
    return best


def _random_batch(config: SaSRConfig, batch_size: int, questions_per_video: int, device: torch.device,
                  maps: torch.dtype) -> dict[str, torch.Tensor]:
    """Random inputs of MUSIC-AVQA shapes: ``batch_size`` questions about batch_size / questions_per_video videos."""
    B = batch_size
    V = max(1, B // questions_per_video)
    batch = {
        "audio": torch.rand(V, T, AUDIO_DIM, device=device),
        "visual": torch.rand(V, T, VISUAL_DIM, device=device),
        "visual_maps": torch.rand(V, T, P, VISUAL_DIM, device=device).to(maps),
        "visual_maps_neg": torch.rand(V, T, P, VISUAL_DIM, device=device).to(maps),
        "visual_neg": torch.rand(V, T, VISUAL_DIM, device=device),
        "question": torch.randint(0, config.question_vocab_size, (B, L), device=device),
        "question_len": torch.randint(1, L + 1, (B,)),  # on the host, as BatchLoader gives it
        "answer": torch.randint(0, config.num_answers, (B,), device=device),
        "sources": (torch.rand(V, config.num_tokens, device=device) < 0.2).float(),
        "video_of": torch.arange(B, device=device) % V,
    }
    if device.type == "cpu" and maps == torch.float32:  # as BatchLoader hands them over (data/map_norms.py)
        batch["visual_map_norms"] = torch.linalg.vector_norm(batch["visual_maps"], dim=-1)
        batch["visual_map_norms_neg"] = torch.linalg.vector_norm(batch["visual_maps_neg"], dim=-1)
    return batch


def _steps(config: SaSRConfig, batch_size: int, device: torch.device, questions_per_video: int, precision: str):
    """(model, train_once, infer_once) of build_model(config) on one random batch: `train_step` and
    a forward without gradients."""
    torch.manual_seed(0)
    model = build_model(config).to(device)
    optimizer = build_optimizer(model, lr=1e-4)
    batch = _random_batch(config, batch_size, questions_per_video, device, maps_dtype(device, precision))

    @torch.no_grad()
    def infer_once() -> None:
        with autocast(device, precision):
            model(**model_inputs(batch))

    return model, functools.partial(train_step, model, batch, optimizer, config, precision=precision), infer_once


def model_speed(config: SaSRConfig, batch_size: int, device: torch.device, steps: int, warmup: int = 2,
                questions_per_video: int = 1, precision: str = "fp32", min_seconds: float = 0.0) -> dict:
    """Training and inference samples/s of build_model(config) on random MUSIC-AVQA-shaped inputs:
    ``batch_size`` questions about ``batch_size / questions_per_video`` videos, in ``precision``."""
    return step_speed(_steps(config, batch_size, device, questions_per_video, precision), batch_size, device, steps,
                      warmup, min_seconds)


def step_speed(built, batch_size: int, device: torch.device, steps: int, warmup: int = 2,
               min_seconds: float = 0.0) -> dict:
    """Training and inference samples/s of ``built`` = (model, train_once, infer_once), each call
    one batch of ``batch_size`` questions (the kit's steps, or the released code's)."""
    model, train_once, infer_once = built
    model.train()
    train_s = _timed(train_once, steps, warmup, device, min_seconds)
    model.eval()
    infer_s = _timed(infer_once, steps, warmup, device, min_seconds)
    B = batch_size
    return {"train_samples_per_s": B / train_s, "infer_samples_per_s": B / infer_s, "train_ms_per_batch": 1e3 * train_s}


def flops_per_sample(config: SaSRConfig, batch_size: int, questions_per_video: int = 1) -> dict[str, float]:
    """FLOP per question of one training step (forward, losses, backward) and of one inference
    forward, as torch.utils.flop_counter counts them (matrix products; elementwise work is free
    in a roofline). Counted on the CPU in fp32: the count does not depend on device or precision."""
    return step_flops(_steps(config, batch_size, torch.device("cpu"), questions_per_video, "fp32"), batch_size)


def step_flops(built, batch_size: int) -> dict[str, float]:
    """FLOP per question of ``built`` = (model, train_once, infer_once): a training and an inference step."""
    model, train_once, infer_once = built
    counts = {}
    for what, step, mode in (("train", train_once, model.train), ("infer", infer_once, model.eval)):
        mode()
        with FlopCounterMode(display=False) as counter:
            step()
        counts[what] = counter.get_total_flops() / batch_size
    return counts


def random_store(path: Path, num_videos: int, seed: int = 0) -> FeatureStore:
    """A feature store of MUSIC-AVQA shapes (T = 10, P = 196) filled with uniform random values."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:08d}" for i in range(num_videos)]
    with StoreWriter(path, ids, num_segments=T, num_positions=P, source="bench: random values") as writer:
        for i in range(num_videos):
            writer.write(i, audio=rng.random((T, AUDIO_DIM), dtype=np.float32),
                         visual=rng.random((T, VISUAL_DIM), dtype=np.float32),
                         maps=rng.random((T, P, VISUAL_DIM), dtype=np.float32))
    return FeatureStore.open(path)


def _records(num_videos: int, per_video: int):
    """Questions that need no placeholders, ``per_video`` per video (the data path ignores the text)."""
    raw = {"type": '["Audio-Visual", "Existential"]', "question_content": "Is there a voiceover?", "templ_values": "[]"}
    return [
        parse_record({**raw, "video_id": f"{v:08d}", "question_id": v * per_video + k, "anser": ("yes", "no")[k % 2]})
        for v in range(num_videos) for k in range(per_video)
    ]


def data_speed(store: FeatureStore, batch_size: int, device: torch.device, batches: int) -> dict:
    """Batches/s of BatchLoader (shuffled, with negatives) from ``store``; the first pass warms the cache."""
    records = _records(len(store), per_video=4)
    qv, av = build_vocabularies(records)
    loader = BatchLoader(AVQADataset(records, store, qv, av), batch_size, shuffle=True, seed=0, device=device)
    items = loader.batch_indices()
    for b in items:  # warm the page cache, as on a machine that has read the store before
        loader.gather(b)
    _sync(device)
    start = time.perf_counter()
    done = 0
    while done < batches:
        for b in items[: batches - done]:
            loader.gather(b)
            done += 1
    _sync(device)
    per_batch = (time.perf_counter() - start) / batches
    return {"batches_per_s": 1.0 / per_batch, "samples_per_s": batch_size / per_batch}


def precisions_for(device: torch.device) -> tuple[str, ...]:
    """fp32 everywhere; bf16 too where the hardware multiplies it (any CUDA GPU the kit targets, a
    CPU with AVX512-BF16 or AMX)."""
    return ("fp32", "bf16") if device.type == "cuda" or cpu_has_bf16() else ("fp32",)


def benchmark(device: str | None = None, batch_sizes: tuple[int, ...] | None = None, steps: int = 5,
              data_batches: int = 20, num_videos: int = 96, questions_per_video: tuple[int, ...] = (1, 5),
              archs: tuple[str, ...] = ("paper", "official"), rounds: int = 2,
              config: SaSRConfig | None = None, precisions: tuple[str, ...] | None = None,
              min_seconds: float = 0.0, peak_size: int = 2048, released: str | Path | None = None,
              lesson: bool = True) -> pd.DataFrame:
    """One row per (model, what, precision, batch size, questions per video): samples/s (and
    batches/s), GFLOP per sample, the roofline and its percentage, and ``spread`` (the fastest round
    over the slowest); plus the data path's rows (model "-").

    The models of ``archs`` are measured in this process, alternating (paper, official, paper,
    official, ... ``rounds`` times) so that both meet the same machine; each keeps its best round.
    ``batch_sizes`` None: 16 and 64 on a GPU, 16 on a CPU (the official network is slow there).
    ``config``: the sizes (default: the paper's, D = 512, 22 tokens); each model gets its ``arch``.
    ``precisions`` None: `precisions_for(device)`. ``released``: a checkout of the authors' code
    (`sasr_lite.released_code`), measured as model "released" in the same alternation, in fp32 with
    one question per sample (it trains in fp32 and has no shared video path). ``lesson``: also the
    lesson model (model "lesson": the paper's network at the lesson preset's sizes, D = 128, in
    batches of the preset's size with ``group`` questions per video, as notebook 08 trains it), in
    every precision, after the others (it has no counterpart to alternate with). The table's ``attrs``
    hold the device, threads and the matmul peaks (GFLOP/s per precision, measured before and after
    the models; the best).
    """
    config = config or SaSRConfig()
    dev = pick_device(device)
    if dev.type == "cpu":
        keep_freed_memory()
    batch_sizes = batch_sizes or ((16, 64) if dev.type == "cuda" else (16,))
    precisions = precisions or precisions_for(dev)
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks = {p: matmul_peak(dtypes[p], dev, peak_size) for p in precisions}
    flops: dict[tuple, dict[str, float]] = {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="sasr-bench-") as tmp:
        store = random_store(Path(tmp) / "store", num_videos)
        for B in batch_sizes:
            for k in questions_per_video:
                for arch in archs:
                    flops[(arch, B, k)] = flops_per_sample(config.replace(arch=arch), B, k)
                with_released = released is not None and k == 1
                if with_released:
                    flops[("released", B, k)] = step_flops(released_steps(released, B, torch.device("cpu")), B)
                for precision in precisions:
                    # each contender builds its (model, train_once, infer_once) afresh every round
                    contenders = {arch: functools.partial(_steps, config.replace(arch=arch), B, dev, k, precision)
                                  for arch in archs}
                    if with_released and precision == "fp32":
                        contenders["released"] = functools.partial(released_steps, released, B, dev)
                    seen: dict[str, dict[str, list[float]]] = {}
                    for _ in range(rounds):
                        for name, build in contenders.items():
                            m = step_speed(build(), B, dev, steps, min_seconds=min_seconds)
                            for key in ("train_samples_per_s", "infer_samples_per_s"):
                                seen.setdefault(name, {}).setdefault(key, []).append(m[key])
                    for arch, speeds in seen.items():
                        rows += _speed_rows(arch, precision, B, k, speeds, flops[(arch, B, k)])
            d = data_speed(store, B, dev, data_batches)
            rows.append({"model": "-", "what": "data path (store -> batch, with negatives)", "precision": "fp16 store",
                         "batch": B, "questions/video": 1, "samples/s": d["samples_per_s"], "batches/s": d["batches_per_s"]})
        if lesson:
            rows += _lesson_rows(dev, precisions, rounds, steps, min_seconds)
    for p in precisions:  # the machine again, after the models: a peak disturbed once is not kept
        peaks[p] = max(peaks[p], matmul_peak(dtypes[p], dev, peak_size))
    table = pd.DataFrame(rows)
    # roofline = peak GFLOP/s / GFLOP per sample (the data path's rows have no FLOP: NaN)
    table["roofline samples/s"] = table["precision"].map(peaks) / table["GFLOP/sample"]
    table["% roofline"] = 100.0 * table["samples/s"] / table["roofline samples/s"]
    table.attrs.update(device=str(dev), threads=torch.get_num_threads(), peaks_gflops=peaks,
                       cpu_bf16=dev.type == "cpu" and cpu_has_bf16())
    return table


def _lesson_rows(dev: torch.device, precisions: tuple[str, ...], rounds: int, steps: int,
                 min_seconds: float) -> list[dict]:
    """`benchmark`'s rows of the lesson model (model "lesson"), each the best of ``rounds``."""
    lesson = preset("lesson")
    config, B, k = lesson.model, lesson.train.batch_size, lesson.train.group
    flops = flops_per_sample(config, B, k)
    rows = []
    for precision in precisions:
        runs = [step_speed(_steps(config, B, dev, k, precision), B, dev, steps, min_seconds=min_seconds)
                for _ in range(rounds)]
        speeds = {key: [r[key] for r in runs] for key in ("train_samples_per_s", "infer_samples_per_s")}
        rows += _speed_rows("lesson", precision, B, k, speeds, flops)
    return rows


def _speed_rows(model: str, precision: str, batch: int, per_video: int, speeds: dict[str, list[float]],
                flops: dict[str, float]) -> list[dict]:
    """A training and an inference row of ``model`` from its rounds' samples/s (``speeds``, keyed as
    `step_speed` names them): the best round, and the spread of the rounds (fastest over slowest)."""
    rows = []
    for what, key, fkey in (("model training", "train_samples_per_s", "train"),
                            ("model inference", "infer_samples_per_s", "infer")):
        best = max(speeds[key])
        rows.append({"model": model, "what": what, "precision": precision, "batch": batch,
                     "questions/video": per_video, "samples/s": best, "batches/s": best / batch,
                     "GFLOP/sample": flops[fkey] / 1e9, "spread": best / min(speeds[key])})
    return rows


def noisy_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The model rows whose rounds differed by more than 25% (fastest / slowest > NOISY)."""
    if "spread" not in table:
        return table.iloc[0:0]
    return table[table["spread"] > NOISY]


def speed_ratios(table: pd.DataFrame, numerator: str = "paper", denominator: str = "official") -> pd.DataFrame:
    """``numerator`` samples/s over ``denominator``'s, per (what, precision, batch, questions/video),
    from one `benchmark` table (so from one run on one machine). A ratio either of whose rows is
    noisy is NaN, with ``noisy`` True."""
    index = ["what", "precision", "batch", "questions/video"] if "precision" in table else ["what", "batch", "questions/video"]
    models = table[table["model"].isin([numerator, denominator])]
    wide = models.pivot_table(index=index, columns="model", values="samples/s")
    ratio = (wide[numerator] / wide[denominator]).rename(f"{numerator} / {denominator}")
    out = ratio.reset_index()
    if "spread" in models:
        spread = models.pivot_table(index=index, columns="model", values="spread").max(axis=1)
        noisy = (spread > NOISY).reset_index(drop=True)
        out["noisy"] = noisy.to_numpy()
        out.loc[out["noisy"], ratio.name] = float("nan")
    return out


def same_run_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """`speed_ratios` paper / official, with paper / released (and its own ``noisy vs released``)
    beside it where the released code was measured (NaN elsewhere)."""
    ratios = speed_ratios(table)
    if not (table["model"] == "released").any():
        return ratios
    against = speed_ratios(table, denominator="released").rename(columns={"noisy": "noisy vs released"})
    keys = [c for c in ("what", "precision", "batch", "questions/video") if c in ratios]
    return ratios.merge(against, on=keys, how="left")


def processor_name() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def summary_markdown(result: dict, source: str) -> str:
    """The README's speed table from a `--json` result: per network, precision and questions per video,
    training and inference samples/s with % of the roofline, then the same-run ratios."""
    rows = pd.DataFrame(result["rows"])
    models = rows[rows["model"] != "-"]
    peaks = ", ".join(f"{p} {g:.0f} GFLOP/s" for p, g in result["peaks_gflops"].items())
    command = f"sasr-lite bench --threads {result['threads']}"
    command += " --released DIR" if (models["model"] == "released").any() else ""
    lines = [f"Measured by `{command} --json {source}` on {result['device']} "
             f"({result.get('processor', 'processor not recorded')}, {result['threads']} threads); matmul peak in the "
             f"same run: {peaks}.", "",
             "| network | precision | questions / video | GFLOP / question (training) | training samples/s (% roofline) "
             "| inference samples/s (% roofline) |", "|---|---|---|---|---|---|"]
    for (model, precision, k), group in models.groupby(["model", "precision", "questions/video"], sort=False):
        train, infer = (group[group["what"] == w].iloc[0] for w in ("model training", "model inference"))
        noisy = " (noisy)" if max(train["spread"], infer["spread"]) > NOISY else ""
        lines.append(f"| {model} | {precision} | {k} | {train['GFLOP/sample']:.2f} | {train['samples/s']:.1f} "
                     f"({train['% roofline']:.0f}%) | {infer['samples/s']:.1f} ({infer['% roofline']:.0f}%){noisy} |")
    lesson = models[models["model"] == "lesson"]
    if len(lesson):
        lines.append(f"\n`lesson` is the paper's network at the lesson preset's sizes (D = 128, as notebook 08 trains "
                     f"it): batches of {lesson['batch'].iloc[0]} questions, {lesson['questions/video'].iloc[0]} per "
                     "video (the preset's `group`; the lesson batches, cut from each video's questions in chunks of "
                     "at most that, hold a few more videos).")
    lines += _released_lines(models)
    data = rows[rows["model"] == "-"]
    for _, row in data.iterrows():
        lines.append(f"\nThe data path served {row['samples/s']:.0f} samples/s (batch {row['batch']}, with negatives, "
                     "from a float16 store) in the same run.")
    return "\n".join(lines) + "\n"


def _released_lines(models: pd.DataFrame) -> list[str]:
    """The summary's sentence per batch size on the released code (fp32, its only step) against the
    paper's model in each precision the run measured, one question per video; a noisy pair says so
    instead of a ratio."""
    lines = []
    for batch, released in models[models["model"] == "released"].groupby("batch"):
        released = released.set_index("what")
        paper = models[(models["model"] == "paper") & (models["questions/video"] == 1) & (models["batch"] == batch)]
        parts = []
        for precision, group in paper.groupby("precision", sort=False):
            mine = group.set_index("what")
            ratio = {}
            for what in ("model training", "model inference"):
                noisy = max(mine.loc[what, "spread"], released.loc[what, "spread"]) > NOISY
                speedup = mine.loc[what, "samples/s"] / released.loc[what, "samples/s"]
                ratio[what] = "noisy" if noisy else f"{speedup:.1f}x"
            parts.append(f"in {precision}, {ratio['model training']} its samples/s in training and "
                         f"{ratio['model inference']} in inference")
        lines.append(f"\nThe released SaSR-Net code itself (`--released`: its own training step, fp32, batch {batch}, "
                     "one question per sample), same run: the paper's model runs " + "; ".join(parts) + ".")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: CUDA when present, else CPU)")
    parser.add_argument("--threads", type=at_least(1), default=None,
                        help="torch CPU threads (default: torch's choice; the README's numbers use 2)")
    parser.add_argument("--quick", action="store_true", help="short windows and a small store (about a minute on CPU)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), action="append", default=None,
                        help="measure only this precision (repeatable; default: fp32, and bf16 where the hardware has it)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON to this file")
    parser.add_argument("--released", type=Path, default=None, metavar="DIR",
                        help="also time the authors' released code from this checkout of "
                             "github.com/tianyu-yang1998/SaSR-Net (it needs timm and einops installed)")
    parser.add_argument("--summary", type=Path, default=None, metavar="JSON",
                        help="measure nothing: print the README's speed table from a saved --json result")


def _is_bench_result(path: Path) -> bool:
    from sasr_lite.data.files import read_json

    try:
        saved = read_json(path, "bench result")
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and (saved.get("format") == FORMAT or {"rows", "peaks_gflops"} <= set(saved))


def _check_json_target(path: Path) -> None:
    """--json may replace an earlier bench result, never another file (sasr_lite.outputs' rule)."""
    if path.is_dir():
        raise ValueError(f"--json {path} is a folder; give a file name, e.g. {path / 'bench.json'}")
    if path.exists() and not _is_bench_result(path):
        raise FileExistsError(f"--json {path} exists and is not a result of sasr-lite bench; refusing to overwrite "
                              "it (give another file name)")


def run(args: argparse.Namespace) -> int:
    if args.summary is not None:
        from sasr_lite.data.files import read_json

        print(summary_markdown(read_json(args.summary), str(args.summary)), end="")
        return 0
    if args.json is not None:  # checked before the minutes of measuring
        _check_json_target(args.json)
    if args.released is not None:  # as is the released code's folder and the packages it imports
        load_released(args.released)
    steps, data_batches, videos, rounds, seconds, peak = (
        (2, 8, 48, 2, 0.5, 1024) if args.quick else (6, 30, 128, 3, 2.0, 2048))
    with cpu_threads(args.threads):
        table = benchmark(args.device, steps=steps, data_batches=data_batches, num_videos=videos, rounds=rounds,
                          precisions=tuple(args.precision) if args.precision else None, min_seconds=seconds,
                          peak_size=peak, released=args.released)
        threads = torch.get_num_threads()
    peaks = table.attrs["peaks_gflops"]
    released = f" and the released code ({args.released})" if args.released is not None else ""
    print(f"device {table.attrs['device']}, {threads} torch threads; the paper's model and the official network "
          f"(sasr_lite.model.official){released} at D=512, T={T}, P={P}, {VISUAL_DIM} channels, measured alternately "
          "in this run; then the lesson model (D=128)")
    print("matmul peak of this machine, this run: " + ", ".join(f"{p} {g:.0f} GFLOP/s" for p, g in peaks.items()))
    print(table.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"))
    ratios = same_run_ratios(table)
    shown = ratios.copy()
    for name, flag in (("paper / official", "noisy"), ("paper / released", "noisy vs released")):
        if name in ratios:
            shown[name] = ["noisy" if not pd.isna(noisy) and noisy else "" if pd.isna(r) else f"{r:.1f}x"
                           for r, noisy in zip(ratios[name], ratios.get(flag, [False] * len(ratios)))]
    print("\nsame run, same machine:")
    print(shown.drop(columns=["noisy", "noisy vs released"], errors="ignore").to_string(index=False))
    noisy = noisy_rows(table)
    if len(noisy):
        message = (f"{len(noisy)} row(s) varied by more than {NOISY - 1:.0%} between rounds (another process on the "
                   "cores?): their ratios are not printed; run again on a quiet machine")
        print(f"\nwarning: {message}")
    if args.json:
        from sasr_lite.data.files import write_json_atomic

        write_json_atomic(args.json, {"format": FORMAT, "device": table.attrs["device"], "processor": processor_name(), "threads": threads,
                                      "peaks_gflops": peaks, "cpu_bf16": table.attrs["cpu_bf16"],
                                      "rows": json.loads(table.to_json(orient="records")),
                                      "ratios": json.loads(ratios.to_json(orient="records"))})
    return 0
