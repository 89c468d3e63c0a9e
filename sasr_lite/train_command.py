"""`sasr-lite train`: flags and config files into `SaSRConfig` and `TrainConfig`, then `train.train`.

Parsing is jsonargparse's (a maintained library): it reads the two dataclasses' fields and type
hints, so a flag, a YAML/JSON file and Python all use the same names (``use_slt``, ``d_model``;
``--max-batches`` works too) and every value is type-checked before any work (``use_slt: maybe``,
``--lr nan``, ``d_model: abc`` are refused, naming the key). The dataclasses' own ``__post_init__`` then checks
ranges (``--max_batches -1``, ``--checkpoint_every 0``). Precedence: the defaults (the paper's
recipe) < ``--preset NAME`` (`sasr_lite.presets`: test, lesson, paper; ``--tiny`` is ``--preset
test``) < ``--config FILE`` < flags; ``--print_config`` prints the merged model and training
config as JSON and exits. A config file holds training fields at the top level and model fields
under ``model:``::

    epochs: 10
    max_batches: 20
    model:
      d_model: 128
      use_slt: false

We chose jsonargparse over tyro because it reads config files itself, with the same type
checks as flags, and keeps the Python field names as flag names.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import fields
from pathlib import Path

from jsonargparse import ActionConfigFile, ArgumentError, ArgumentParser, Namespace

from sasr_lite.config import SaSRConfig, TrainConfig
from sasr_lite.presets import PRESETS, preset


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
    parser.add_argument("--preset", choices=tuple(PRESETS), default=None,
                        help="start from a named preset's model and schedule (sasr_lite.presets); flags and "
                             "--config override it")
    parser.add_argument("--tiny", action="store_true", help="the same as --preset test (smoke runs)")
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


def _preset_name(argv: list[str]) -> str | None:
    """The preset ``argv`` names (``--preset NAME``, ``--preset=NAME`` or ``--tiny``), or None; read
    before parsing because a preset sets the parser's defaults, which the flags then override."""
    names = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--preset"]
    names += [a.split("=", 1)[1] for a in argv if a.startswith("--preset=")] + ["test"] * ("--tiny" in argv)
    if len(set(names)) > 1:
        raise ValueError(f"--preset: one preset at a time, got {', '.join(dict.fromkeys(names))} "
                         "(--tiny is --preset test)")
    return names[0] if names else None


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
    and ``model_given``: the model fields a flag or config file set (a preset's are not given).

    A bad value raises ValueError with one line naming the flag or key (the CLI prints it).
    """
    parser = train_parser(prog, description)
    argv = _model_pairs([_underscored(arg) for arg in argv])
    # the bare flag prints our two configs as JSON (jsonargparse's own, with =flags, prints its YAML namespace)
    print_config = "--print_config" in argv
    argv = [a for a in argv if a != "--print_config"]
    files = _config_files(argv)
    given = _model_fields_given(argv, files)  # reads the files first: a malformed one is named
    name = _preset_name(argv)
    if name is not None:
        chosen = preset(name)
        parser.set_defaults({f"model.{k}": v for k, v in chosen.model.to_dict().items()})
        parser.set_defaults(chosen.train.to_dict())
    try:
        args = parser.parse_args(argv)
        args.pop("config")  # the files' values are already merged in
        model = args.pop("model")
        # a --model FILE leaves its path under __path__ beside the fields
        model_config = SaSRConfig(**{k: v for k, v in model.as_dict().items() if k != "__path__"})
        config = TrainConfig(**{f.name: args.pop(f.name) for f in fields(TrainConfig)})
    except ArgumentError as err:
        where = f" (flags and config file {', '.join(files)})" if files else ""
        raise ValueError(" ".join(str(err).split()) + where) from None
    args.model_config, args.train_config, args.print_config = model_config, config, print_config
    args.model_given = given
    return args


def _model_fields_given(argv: list[str], files: list[str]) -> set[str]:
    """The model fields set by a flag (``--model.NAME``), a config file's ``model:`` or a model
    file (``--model FILE``)."""
    given = {a[len("--model."):].split("=", 1)[0] for a in argv if a.startswith("--model.")}
    for f in files:
        given |= set(read_config_file(f).get("model") or {})
    # what is left of --model after _model_pairs is a model config file
    paths = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--model"]
    for path in paths + [a[len("--model="):] for a in argv if a.startswith("--model=")]:
        given |= set(read_config_file(path))
    return given


def _data_sized_conflicts(args: Namespace, data) -> list[str]:
    """One message per model field that the data decide (`sized_for`) and that a flag or config file
    set to another value than the data's: it would otherwise be replaced without a word."""
    from sasr_lite.data.loading import DATA_SIZED, sized_for

    ours, theirs = args.model_config, sized_for(args.model_config, data)
    whose = {"question_vocab_size": "train questions have a vocabulary of {}",
             "num_answers": "train split has {} answers", "answer_head": "answers need the {!r} head",
             "question_len": "questions are padded to {} words"}
    return [f"model.{name} {getattr(ours, name)!r}: {args.data} holds {data.benchmark.title}, whose "
            + whose[name].format(getattr(theirs, name)) + "; leave the setting out (train takes it from the data)"
            for name in DATA_SIZED if name in args.model_given and getattr(ours, name) != getattr(theirs, name)]


def run(args: Namespace) -> int:
    if args.print_config:
        print(json.dumps({"model": args.model_config.to_dict(), "train": args.train_config.to_dict()}, indent=2))
        return 0
    from sasr_lite.data.loading import DATA_SIZED, load_data
    from sasr_lite.train import train  # torch and the model load only when a run starts

    data = args.data
    if args.model_given & set(DATA_SIZED) and data.is_dir():
        data = load_data(args.data, args.store)  # read once: train takes the loaded data
        conflicts = _data_sized_conflicts(args, data)
        if conflicts:
            raise ValueError("; ".join(conflicts))
    result = train(data, args.model_config, args.train_config, store_dir=args.store, out_dir=args.out,
                   resume=args.resume, allow_new_annotations=args.allow_new_annotations,
                   overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) == 0 and len(result.history):
        final = result.history.iloc[-1]
        print(f"done: {len(result.history)} epochs, final val accuracy {final['val_accuracy']:.2f}% "
              f"({result.release} release); checkpoint {result.checkpoint}")
    return 0
