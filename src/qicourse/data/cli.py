"""`qicourse datasets build|check|list|describe`: thin wrappers over `qicourse.data`."""

from __future__ import annotations

import argparse

from . import build as _build
from .loader import describe, list_datasets
from .schema import DATASETS


def _cmd_build(args: argparse.Namespace) -> int:
    written = _build.build_all(args.out, recipes=args.recipes)
    print(f"wrote {len(written)} files to {written[0].parent}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    drift = _build.check(args.datasets)
    if drift:
        print("datasets drift from their recipes (run `qicourse datasets build`):")
        for line in drift:
            print(f"  {line}")
        return 1
    print("datasets match their recipes")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for name in list_datasets():
        print(f"{name:<11} {DATASETS[name].title}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    print(describe(args.name))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="build, check, list and describe the synthetic ward datasets",
                                   description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)
    p = sub.add_parser("build", help="regenerate the CSVs, truth files and data dictionary from the recipes")
    p.add_argument("--out", default=None, help="output folder (default: the datasets folder)")
    p.add_argument("--recipes", default=None, help="recipes folder (default: datasets/recipes)")
    p.set_defaults(func=_cmd_build)
    p = sub.add_parser("check", help="rebuild in a temporary folder; exit 1 if the committed files differ")
    p.add_argument("--datasets", default=None, help="datasets folder to check (default: the datasets folder)")
    p.set_defaults(func=_cmd_check)
    sub.add_parser("list", help="list the datasets").set_defaults(func=_cmd_list)
    p = sub.add_parser("describe", help="print a dataset's data card")
    p.add_argument("name", help="dataset name (see `qicourse datasets list`)")
    p.set_defaults(func=_cmd_describe)
