"""`sasr-lite` command line: one subcommand per module, imported only when used.

Each module named in COMMANDS exposes ``run(args) -> int`` and either ``add_arguments(parser)`` (an
argparse parser) or ``parse(argv, prog, description)`` (its own parser: `train` reads typed
configs with jsonargparse).
An expected error (bad input: a missing or malformed file, a wrong setting, non-finite values)
ends the command with one message naming what is wrong and exit status 1; ``--debug``, anywhere
on the command line, shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "inspect": ("sasr_lite.data.inspect", "summarise annotation files (MUSIC-AVQA or AVQA-Yang)"),
    "build-store": ("sasr_lite.data.store_command", "build a float16 feature store from per-video .npy files"),
    "verify-store": ("sasr_lite.data.verify", "read a feature store and check every video's rows"),
    "synth": ("sasr_lite.synth.generate", "generate a synthetic benchmark (MUSIC-AVQA or AVQA-Yang)"),
    "render": ("sasr_lite.synth.media", "render synthetic scenes to MP4/WAV media"),
    "extract": ("sasr_lite.features.extract", "extract VGGish and ResNet-18 features from videos"),
    "train": ("sasr_lite.train_command", "train SaSR-Net"),
    "eval": ("sasr_lite.evaluate.cli", "evaluate a checkpoint in the paper's Table 1 layout"),
    "compare": ("sasr_lite.compare", "two evaluated runs: per-type differences with paired bootstrap intervals"),
    "demo": ("sasr_lite.demo", "end-to-end demo on the synthetic benchmark"),
    "bench": ("sasr_lite.bench", "samples/s of the model and the data path"),
    "grade": ("sasr_lite.labs.grade", "grade collected lab notebooks: grades.csv, summary.csv, feedback per student"),
}


def at_least(minimum: int):
    """An argparse type: a whole number >= ``minimum`` (counts and sizes; argparse names the flag
    when it is not), so that e.g. ``--top -1`` or ``--epochs 0`` is refused before any work."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sasr-lite", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        build_parser().parse_args(argv)  # prints help or the unknown-command error
        return 2
    name, rest = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name][0])
    prog, description = f"sasr-lite {name}", COMMANDS[name][1]
    try:
        if hasattr(module, "parse"):
            args = module.parse(rest, prog, description)
        else:
            parser = argparse.ArgumentParser(prog=prog, description=description,
                                             epilog="--debug: show the full traceback of an error")
            module.add_arguments(parser)
            args = parser.parse_args(rest)
        return int(module.run(args) or 0)
    # bad input (or a package that input needs), said by the code that found it
    except (OSError, ValueError, KeyError, RuntimeError, ImportError) as err:
        if debug:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"sasr-lite {name}: error: {message} (--debug shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
