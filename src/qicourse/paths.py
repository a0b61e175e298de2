"""Where the course's folders are: a checkout, a folder laid out by `qicourse init`, or the installed package.

The course assets (`course/`, `solutions/`, `exercises/`, `datasets/`, `grader/`) live at the top
of a checkout; a wheel carries a copy of them inside the package (`qicourse/_assets/`, put there
by setup.py at build time), so an installed copy needs no clone. Shared by every layer, imports
nothing of ours.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_ASSETS = _PACKAGE_DIR / "_assets"
"""the copy of the course assets a wheel carries (absent in a checkout's editable install)"""
MARKER = ".qicourse"
"""file `qicourse init` writes at the top of the folder it lays out"""


def is_course_root(folder: Path) -> bool:
    """Does `folder` hold a full set of course assets (a checkout, or an educator's `qicourse init`)?"""
    return (folder / "datasets").is_dir() and (folder / "solutions").is_dir() and \
        (folder / "grader" / "nbgrader_config.py").is_file()


def repo_root() -> Path:
    """The folder holding the course assets (`solutions/`, `datasets/`, `grader/`, ...).

    `QICOURSE_ROOT` wins; then the nearest of the working directory and its parents that holds
    them (a checkout or an educator's `qicourse init` folder); then the editable install's
    checkout; then the copy inside the installed package.
    """
    env = os.environ.get("QICOURSE_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for c in (here, *here.parents, _PACKAGE_DIR.parent.parent):
        if is_course_root(c):
            return c
    if is_course_root(PACKAGED_ASSETS):
        return PACKAGED_ASSETS
    raise FileNotFoundError(
        "Cannot find the course assets (a folder with datasets/, solutions/ and grader/): this qicourse "
        "install carries none. Run from inside a checkout or a `qicourse init` folder, or set QICOURSE_ROOT.")


def workspace() -> Path:
    """Where commands write by default (`coursedir/`, `demo-output/`, released `exercises/`): the
    checkout or `qicourse init` folder the working directory is in, never the installed package;
    else the working directory itself."""
    here = Path.cwd().resolve()
    for c in (here, *here.parents):
        if (c / MARKER).is_file() or is_course_root(c):
            return c
    root = repo_root()
    return here if root == PACKAGED_ASSETS else root


def datasets_dir() -> Path:
    """Folder of the ward datasets: `QICOURSE_DATA`, else `./datasets` or a parent's, else the course assets'.

    A grading sandbox copies the datasets next to the notebook, and a learner's `qicourse init`
    folder has its own copy, so the working directory is searched before the course assets.
    """
    env = os.environ.get("QICOURSE_DATA")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for c in (here, *here.parents):
        if (c / "datasets").is_dir() and any((c / "datasets").glob("*.csv")):
            return c / "datasets"
    return repo_root() / "datasets"
