"""`qicourse init DIR`: lay out a working copy of the course from the installed package (no clone needed).

A learner's copy holds `course/` (the lessons), `exercises/` (the student versions) and `datasets/`.
An educator's copy (`--educator`) adds `solutions/` (the nbgrader source notebooks with their hidden
tests) and `grader/` (nbgrader settings, rubrics, LMS mappings); run from inside it, `setup`,
`release` and `grade` use those, so the educator can edit them. A learner's copy gets no `solutions/`:
the public course's hidden tests stay inside the package, where `check` runs them (self-study), so
a school that needs hidden tests its learners cannot read writes its own in the educator's copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from qicourse.paths import MARKER, repo_root

LEARNER = ("course", "exercises", "datasets")
EDUCATOR = (*LEARNER, "solutions", "grader")
_SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.check.html")


def init_course(folder: str | Path, *, educator: bool = False) -> list[Path]:
    """Copy the course assets in use (the package's, or the checkout's) into `folder`; return the folders made.

    Refuses, changing nothing, if any of them exists already.
    """
    dest = Path(folder)
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} is a file, not a folder")
    source = repo_root()
    parts = EDUCATOR if educator else LEARNER
    clash = [dest / p for p in (*parts, MARKER) if (dest / p).exists()]
    if clash:
        raise FileExistsError(f"{clash[0]} already exists: nothing was changed (choose an empty folder)")
    missing = [source / p for p in parts if not (source / p).is_dir()]
    if missing:
        raise FileNotFoundError(f"the course assets in {source} have no {missing[0].name}/")
    dest.mkdir(parents=True, exist_ok=True)
    made = []
    for p in parts:
        shutil.copytree(source / p, dest / p, ignore=_SKIPPED)
        made.append(dest / p)
    role = "educator" if educator else "learner"
    (dest / MARKER).write_text(f"A qicourse {role}'s copy, laid out by `qicourse init`: qicourse commands run "
                               "in this folder use it.\n", encoding="utf-8")
    return made


def _main(args) -> int:
    made = init_course(args.folder, educator=args.educator)
    print(f"laid out {', '.join(p.name + '/' for p in made)} in {Path(args.folder).resolve()}")
    if args.educator:
        print("next: cd there, then `qicourse setup --students roster.csv` and `qicourse release ASSIGNMENT`")
    else:
        print("next: cd there, open course/00_getting_started.ipynb in JupyterLab, and check an exercise with "
              "`qicourse check exercises/<assignment>/<assignment>.ipynb`")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("init", help="lay out the course (lessons, exercises, datasets) in a folder",
                              description=__doc__.splitlines()[0])
    p.add_argument("folder", help="where to lay it out (created; must not hold the course's folders already)")
    p.add_argument("--educator", action="store_true",
                   help="also solutions/ (hidden tests) and grader/ (settings, rubrics), for running a cohort")
    p.set_defaults(func=_main)
