"""The `qicourse` command: a thin layer over functions that notebooks and tests call directly.

Each part of the package registers its own subcommands (`register(subparsers)` in its `cli`
module), so the command line and the Python API never drift apart.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Parts that contribute subcommands, in the order they appear in --help.
_PARTS = ["qicourse.data.cli", "qicourse.grading.cli", "qicourse.rubric.cli", "qicourse.demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qicourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _PARTS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"qicourse {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
