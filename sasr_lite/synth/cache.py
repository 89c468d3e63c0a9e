"""A synthetic benchmark on disk, generated when missing or stale: the one cache the demo and the
notebooks share.

A folder is current when its ``synth.json`` (written last by the generator) records the wanted
format version, size, seed and options, and its ``.generator-sha256`` the source of the generator
that wrote it (so a benchmark made by other code is made again, even when no version was bumped).
Otherwise it is generated again, under the output rule of `sasr_lite.outputs`: only a folder whose
every file the generator wrote, unchanged since, is replaced; anything else is refused with the
reason, unless ``overwrite`` moves it aside first.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from sasr_lite.data.files import read_json, write_text_atomic
from sasr_lite.outputs import claim, folder_lock, read_marker, record_outputs, remove_own

STAMP = ".generator-sha256"


def generator_fingerprint() -> str:
    """SHA-256 of the synthetic generator's source (every module of `sasr_lite.synth`)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _wanted(dataset: str, size: str | int, seed: int, cues, bias: float, rephrasings: int) -> dict:
    """{what: (synth.json key, wanted value)} for a benchmark of these settings."""
    if dataset == "avqa-yang":
        from sasr_lite.synth.avqa_yang import AVQA_SYNTH_FORMAT, AVQA_SYNTH_VERSION

        return {"format": ("format", AVQA_SYNTH_FORMAT), "format version": ("version", AVQA_SYNTH_VERSION),
                "size": ("size", size), "seed": ("seed", seed)}
    from sasr_lite.synth.cues import resolve_cues
    from sasr_lite.synth.generate import (SYNTH_FORMAT, SYNTH_VERSION, preset_cues, preset_instruments,
                                          preset_questions_per_video)

    return {"format": ("format", SYNTH_FORMAT), "format version": ("version", SYNTH_VERSION), "size": ("size", size),
            "seed": ("seed", seed), "questions per video": ("questions_per_video", preset_questions_per_video(size)),
            "instruments": ("instruments", list(preset_instruments(size))),
            "cues": ("cues", (preset_cues(size) if cues is None else resolve_cues(cues)).to_dict()),
            "bias": ("bias", bias or None), "rephrasings": ("rephrasings", rephrasings or None)}


def _stale(root: Path, wanted: dict, fingerprint: str) -> list[str]:
    """Why the benchmark at ``root`` is not the wanted one ([] when it is)."""
    info = read_json(root / "synth.json", "synth.json")
    if not isinstance(info, dict) or info.get("format") != wanted["format"][1]:
        raise ValueError(f"{root / 'synth.json'} is not a {wanted['format'][1]} manifest; refusing to overwrite {root}")
    reasons = [f"{what} {info.get(key)!r}, not {value!r}" for what, (key, value) in wanted.items()
               if info.get(key) != value]
    stamp = root / STAMP
    if not reasons and stamp.is_file() and stamp.read_text() != fingerprint:
        reasons.append("the generator's code changed")
    return reasons


def ensure_benchmark(root: str | Path, size: str | int, seed: int = 0, dataset: str = "music-avqa", cues=None,
                     bias: float = 0.0, rephrasings: int = 0, overwrite: bool = False) -> Path:
    """The synthetic benchmark at ``root`` with these settings (`sasr_lite.synth.generate.generate`,
    or `avqa_yang.generate_avqa_yang` for ``dataset="avqa-yang"``), generated when missing or stale."""
    root = Path(root)
    wanted = _wanted(dataset, size, seed, cues, bias, rephrasings)
    fingerprint = generator_fingerprint()
    with folder_lock(root, "synth"):
        if (root / "synth.json").is_file():
            reasons = _stale(root, wanted, fingerprint)
            if not reasons:
                return root
            reason = "; ".join(reasons)
            if (root / STAMP).is_file() and read_marker(root) is None:
                record_outputs(root, "synth")  # written by the notebooks' cache before it kept markers
            try:
                state = claim(root, "synth", replace_own=True, overwrite=overwrite)
            except FileExistsError as err:
                raise FileExistsError(f"{root} needs regenerating ({reason}), but {err}") from None
            if state == "replace":
                print(f"regenerating {root}: {reason}", flush=True)
                remove_own(root)  # every file there is one the generator wrote, unchanged since
        else:
            claim(root, "synth", replace_own=True, overwrite=overwrite)
        name = "AVQA-Yang" if dataset == "avqa-yang" else "MUSIC-AVQA"
        print(f"generating the {size} synthetic {name} benchmark (seed {seed}) into {root} ...", flush=True)
        start = time.perf_counter()
        if dataset == "avqa-yang":
            from sasr_lite.synth.avqa_yang import generate_avqa_yang

            generate_avqa_yang(root, size=size, seed=seed)
        else:
            from sasr_lite.synth.generate import generate

            generate(root, size=size, seed=seed, cues=cues, bias=bias, rephrasings=rephrasings)
        write_text_atomic(root / STAMP, fingerprint)
        record_outputs(root, "synth")
    print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    return root
