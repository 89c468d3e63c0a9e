"""`sasr-lite train`: flags and config files into `SaSRConfig` and `TrainConfig`, then `train.train`.

Parsing is jsonargparse's (a maintained library): it reads the two dataclasses' fields and type
hints, so a flag, a YAML/JSON file and Python all use the same names (``use_slt``, ``d_model``;
``--max-batches`` works too) and every value is type-checked before any work (``use_slt: maybe``,
``--lr nan``, ``d_model: abc`` are refused, naming the key). The dataclasses' own ``__post_init__`` then checks
ranges (``--max_batches -1``, ``--checkpoint_every 0``). Precedence: the defaults (the paper's
recipe) < ``--tiny`` < ``--config FILE`` < flags. A config file holds training fields at the top
level and model fields under ``model:``::

    epochs: 10
    max_batches: 20
    model:
      d_model: 128
      use_slt: false

We chose jsonargparse over tyro because it reads config files itself, with the same type
checks as flags, and keeps the Python field names as flag names.
"""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path

from jsonargparse import ActionConfigFile, ArgumentError, ArgumentParser, Namespace

from sasr_lite.config import SaSRConfig, TrainConfig


def train_parser(prog: str = "sasr-lite train", description: str | None = None) -> ArgumentParser:
    """The parser of `sasr-lite train` (also `python -m sasr_lite.train` and torchrun's)."""
    parser = ArgumentParser(prog=prog, description=description, exit_on_error=False,
                            epilog="--debug: show the full traceback of an error")
    parser.add_argument("data", type=Path, help="folder with avqa-{train,val}.json")
    parser.add_argument("--store", type=Path, default=None,
                        help="folder with the {split}/ feature stores (default DATA/store)")
    parser.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--overwrite", action="store_true",
                        help="OUT holds an earlier run: move it aside to OUT.old-N and start afresh")
    parser.add_argument("--allow_new_annotations", action="store_true",
                        help="with --resume: continue although the annotation files changed since the checkpoint")
    parser.add_argument("--tiny", action="store_true", help="start from SaSRConfig.tiny() sizes (smoke runs)")
    parser.add_argument("--config", action=ActionConfigFile,
                        help="YAML/JSON file: training fields at the top level, model fields under model:")
    parser.add_class_arguments(TrainConfig, as_group=True)
    parser.add_class_arguments(SaSRConfig, "model")
    return parser


def _underscored(arg: str) -> str:
    """``--batch-size=8`` -> ``--batch_size=8``: the other commands spell flags with dashes, so
    train accepts both spellings (its flags are the dataclasses' field names)."""
    if not arg.startswith("--"):
        return arg
    name, eq, value = arg[2:].partition("=")
    return "--" + name.replace("-", "_") + eq + value


def _model_pairs(argv: list[str]) -> list[str]:
    """``--model arch=official`` -> ``--model.arch official`` (the KEY=VALUE form of earlier
    versions, still handy for one field); ``--model FILE`` keeps meaning a model config file."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        value = arg[len("--model="):] if arg.startswith("--model=") else argv[i + 1] if (
            arg == "--model" and i + 1 < len(argv)) else None
        if value is not None and re.fullmatch(r"\w+=.*", value):
            key, setting = value.split("=", 1)
            out += [f"--model.{key}", setting]
            i += 1 if arg.startswith("--model=") else 2
            continue
        out.append(arg)
        i += 1
    return out


def _config_files(argv: list[str]) -> list[str]:
    files = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--config"]
    return files + [a.split("=", 1)[1] for a in argv if a.startswith("--config=")]


def read_config_file(path: str | Path) -> dict:
    """The settings of a config file, checked to be what `train` reads: UTF-8 YAML or JSON holding
    a mapping, with the model's settings as a mapping under ``model:``. Errors are one line naming
    the file (the parser's own would not name it, or would be a traceback)."""
    import yaml  # jsonargparse's own YAML reader

    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"config file not found: {file}")
    try:
        content = yaml.safe_load(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"{file}: not UTF-8 text (byte {err.start}: {err.reason}); a config file is YAML or JSON") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{file}: not valid YAML or JSON ({' '.join(str(err).split())})") from None
    layout = "training settings at the top level, model settings under model:"
    if not isinstance(content, dict):
        what = "empty" if content is None else f"a {type(content).__name__} ({content!r:.40}), not a mapping"
        raise ValueError(f"{file}: {what}; a config file holds {layout}")
    if "model" in content and not isinstance(content["model"], dict):
        raise ValueError(f"{file}: model: is {content['model']!r:.40}, not a mapping; a config file holds {layout}")
    return content


def parse(argv: list[str], prog: str = "sasr-lite train", description: str | None = None) -> Namespace:
    """Parse ``argv``; the result has ``model_config`` (SaSRConfig) and ``train_config`` (TrainConfig),
    and ``answer_head_given`` (whether a flag or config file set the answer head).

    A bad value raises ValueError with one line naming the flag or key (the CLI prints it).
    """
    parser = train_parser(prog, description)
    argv = _model_pairs([_underscored(arg) for arg in argv])
    files = _config_files(argv)
    head_in_files = any("answer_head" in (read_config_file(f).get("model") or {}) for f in files)
    if "--tiny" in argv:
        parser.set_defaults({f"model.{k}": v for k, v in SaSRConfig.tiny().to_dict().items()})
    try:
        args = parser.parse_args(argv)
        args.pop("config")  # the files' values are already merged in
        model = args.pop("model")
        model_config = SaSRConfig(**model.as_dict())
        config = TrainConfig(**{f.name: args.pop(f.name) for f in fields(TrainConfig)})
    except ArgumentError as err:
        where = f" (flags and config file {', '.join(files)})" if files else ""
        raise ValueError(" ".join(str(err).split()) + where) from None
    args.model_config, args.train_config = model_config, config
    args.answer_head_given = head_in_files or any(a.startswith("--model.answer_head") for a in argv)
    return args


def _check_answer_head(args: Namespace) -> None:
    """A head set by hand must be the one the data need (`train.sized_for` would replace it)."""
    from sasr_lite.data.datasets import detect_benchmark

    if not (args.answer_head_given and args.data.is_dir()):
        return
    benchmark = detect_benchmark(args.data)
    if args.model_config.answer_head != benchmark.answer_format:
        raise ValueError(f"model.answer_head {args.model_config.answer_head!r}: {args.data} holds {benchmark.title}, "
                         f"whose answers need the {benchmark.answer_format!r} head; leave the setting out (train "
                         "picks the head the data need)")


def run(args: Namespace) -> int:
    from sasr_lite.train import train  # torch and the model load only when a run starts

    _check_answer_head(args)
    result = train(args.data, args.model_config, args.train_config, store_dir=args.store, out_dir=args.out,
                   resume=args.resume, allow_new_annotations=args.allow_new_annotations,
                   overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) == 0 and len(result.history):
        final = result.history.iloc[-1]
        print(f"done: {len(result.history)} epochs, final val accuracy {final['val_accuracy']:.2f}% "
              f"({result.release} release); checkpoint {result.checkpoint}")
    return 0
