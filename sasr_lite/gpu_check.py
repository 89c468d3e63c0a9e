"""`make gpu-check`: everything the kit claims for GPUs, run once, written to one report.

On a CUDA machine, in about 8 minutes (each step's seconds are in the report):

1. ``environment``: torch and CUDA versions, the GPUs, bf16 support;
2. ``bench``: `sasr-lite bench` at the paper's size (D = 512) in bf16 autocast: the paper's model
   and the official network alternating, batches of 16 and 64, one and five questions per video,
   and their same-run ratios;
3. ``data_path``: the float16 store served from disk and resident in GPU memory (`BatchLoader`);
4. ``synth``: the full-size synthetic benchmark (9,288 videos, about 19 GB);
5. ``train``: the paper's recipe (batch 16 per GPU, Adam 1e-4) for a few epochs with
   ``torchrun`` on every visible GPU (NCCL), the stores resident on the GPUs;
6. ``notebook``: notebook 05 executed at the paper scale (a copy; the committed one is untouched).

The report is ``runs/gpu-check/report.json``: one entry per step with ``ok``, ``seconds`` and
its numbers or its error. Exit status 0 when every step passed, 1 otherwise, and 2 without CUDA
(nothing is run). Each step runs at the ``paper`` preset (`sasr_lite.presets`); ``--device cpu
--tiny`` runs the same steps at the ``test`` preset's sizes on the CPU: that is how the test suite
checks this script; its numbers say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import torch

from sasr_lite.data.files import disk_size, write_json_atomic
from sasr_lite.outputs import writing
from sasr_lite.presets import Preset, preset

NOTEBOOK = "05_spatial_attention"
NO_CUDA_EXIT = 2


def scale(tiny: bool) -> Preset:
    """The preset each step runs at: ``paper``, or ``test`` with ``--tiny``."""
    return preset("test" if tiny else "paper")


def environment(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {"torch": torch.__version__, "device": str(device), "python": sys.version.split()[0]}
    if device.type == "cuda":
        info.update(cuda=torch.version.cuda, gpus=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
                    bf16=torch.cuda.is_bf16_supported())
    return info


def bench(device: torch.device, tiny: bool) -> dict[str, Any]:
    """`sasr-lite bench` at the paper's size: both networks alternating, their same-run ratios."""
    from sasr_lite.bench import benchmark, speed_ratios

    precision = "bf16" if device.type == "cuda" else "fp32"
    if tiny:
        table = benchmark(device, batch_sizes=(4,), steps=1, data_batches=2, num_videos=8, archs=("paper",),
                          rounds=1, config=scale(tiny).model, precisions=(precision,), peak_size=256)
        ratios = None
    else:
        table = benchmark(device, batch_sizes=(16, 64), steps=20, data_batches=40, num_videos=300,
                          precisions=(precision,))
        ratios = speed_ratios(table).to_dict(orient="records")
    return {"autocast": "bf16" if precision == "bf16" else "off (CPU)", "peaks_gflops": table.attrs["peaks_gflops"],
            "rows": table.to_dict(orient="records"), "paper_over_official": ratios}


def data_path(device: torch.device, tiny: bool) -> dict[str, Any]:
    from sasr_lite.data.loader_speed import benchmark_data_path

    result = benchmark_data_path(num_videos=24 if tiny else 300, batch_size=4 if tiny else 16,
                                 num_batches=3 if tiny else 40, device=device, resident=True)
    return {"samples_per_s": result["samples_per_s"], "shapes": result["shapes"]}


def synth(out: Path, size: str) -> dict[str, Any]:
    from sasr_lite.synth.generate import generate

    folder = generate(out / "synth", size=size, seed=0)
    return {"folder": str(folder), "size": size, "gigabytes": round(disk_size(folder) / 1e9, 2)}


def train(out: Path, device: torch.device, epochs: int, nproc: int, tiny: bool) -> dict[str, Any]:
    """The paper's recipe under torchrun, one process per GPU; the run's metrics.csv is read back."""
    run = out / "train"
    shutil.rmtree(run, ignore_errors=True)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "sasr_lite.train", str(out / "synth"), "--out", str(run), "--epochs", str(epochs),
               "--device", device.type, "--progress", "false", "--tensorboard", "false"]
    command += ["--preset", scale(tiny).scale]
    command += ["--max_batches", "2", "--num_threads", "1"] if tiny else ["--resident", "true"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"torchrun exited {done.returncode}: {done.stderr.strip()[-1500:]}")
    metrics = pd.read_csv(run / "metrics.csv")
    return {"processes": nproc, "backend": "nccl" if device.type == "cuda" else "gloo", "epochs": len(metrics),
            "val_accuracy": metrics["val_accuracy"].round(2).tolist(),
            "samples_per_s": metrics["samples_per_s"].round(1).tolist(),
            "epoch_seconds": metrics["epoch_seconds"].round(1).tolist(), "log_tail": done.stdout.strip()[-600:]}


def notebook(out: Path, scale: str, timeout: int) -> dict[str, Any]:
    """Execute a copy of notebook 05 at ``scale`` in a fresh kernel."""
    from sasr_lite.execute_notebooks import execute

    source = Path(__file__).resolve().parents[1] / "notebooks" / f"{NOTEBOOK}.ipynb"
    copy = out / "notebook" / source.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, copy)
    before = os.environ.get("SASR_LITE_SCALE")
    os.environ["SASR_LITE_SCALE"] = scale  # the kernel inherits it
    try:
        seconds = execute(copy, timeout, scale)
    finally:
        if before is None:
            os.environ.pop("SASR_LITE_SCALE")
        else:
            os.environ["SASR_LITE_SCALE"] = before
    return {"notebook": str(copy), "scale": scale, "kernel_seconds": round(seconds, 1)}


def run_checks(out: Path, device: torch.device, size: str, epochs: int, nproc: int, tiny: bool,
               timeout: int = 600) -> dict[str, Any]:
    """Run every step (a failed one does not stop the rest); write and return the report."""
    steps: list[tuple[str, Callable[[], dict]]] = [
        ("environment", lambda: environment(device)),
        ("bench", lambda: bench(device, tiny)),
        ("data_path", lambda: data_path(device, tiny)),
        ("synth", lambda: synth(out, size)),
        ("train", lambda: train(out, device, epochs, nproc, tiny)),
        ("notebook", lambda: notebook(out, scale(tiny).scale, timeout)),
    ]
    report: dict[str, Any] = {"device": str(device), "tiny": tiny, "steps": {}}
    start = time.perf_counter()
    for name, step in steps:
        began = time.perf_counter()
        print(f"gpu-check: {name} ...", flush=True)
        try:
            entry = {"ok": True, **step()}
        except Exception as err:  # recorded, and the other steps still run
            entry = {"ok": False, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-3000:]}
        entry["seconds"] = round(time.perf_counter() - began, 1)
        report["steps"][name] = entry
        print(f"gpu-check: {name} {'ok' if entry['ok'] else 'FAILED: ' + entry['error']} ({entry['seconds']} s)",
              flush=True)
        write_json_atomic(out / "report.json", report)  # a killed check still leaves what it measured
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    report["ok"] = all(step["ok"] for step in report["steps"].values())
    write_json_atomic(out / "report.json", report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make gpu-check", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/gpu-check"), help="report folder (default runs/gpu-check)")
    parser.add_argument("--device", default="cuda", help="cuda (default); cpu runs the steps without a GPU claim")
    parser.add_argument("--size", default=scale(False).synth_size,
                        help=f"synthetic benchmark size for the training step (default {scale(False).synth_size})")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs (default 2)")
    parser.add_argument("--nproc", type=int, default=None, help="training processes (default: one per visible GPU)")
    parser.add_argument("--tiny", action="store_true", help="toy sizes (with --device cpu: what the tests run)")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds files gpu-check did not write (or changed since): move it aside to OUT.old-N")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu-check: no CUDA device is visible to torch (torch.cuda.is_available() is False); nothing was run. "
              "Run it on a GPU machine, or `python -m sasr_lite.gpu_check --device cpu --tiny` to try the steps.",
              file=sys.stderr)
        return NO_CUDA_EXIT
    nproc = args.nproc or (torch.cuda.device_count() if device.type == "cuda" else 1)
    try:  # the output rule (sasr_lite.outputs): an earlier check's own report is replaced, nothing else
        with writing(args.out, "gpu-check", overwrite=args.overwrite):
            report = run_checks(args.out, device, scale(True).synth_size if args.tiny else args.size, args.epochs,
                                nproc, args.tiny)
    except FileExistsError as err:
        print(f"gpu-check: error: {err}", file=sys.stderr)
        return 1
    failed = [name for name, step in report["steps"].items() if not step["ok"]]
    print(f"gpu-check: {'every step passed' if not failed else 'FAILED: ' + ', '.join(failed)} in "
          f"{report['total_seconds']:.0f} s; report {args.out / 'report.json'}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
