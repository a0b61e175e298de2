"""Where the course's folders are, whether we run from the repository, a sandbox or an installed copy.

Shared by every layer, imports nothing of ours.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The repository (the folder holding `solutions/` and `datasets/`).

    `QICOURSE_ROOT` wins; otherwise the editable install's checkout; otherwise the nearest
    parent of the working directory that looks like the repository.
    """
    env = os.environ.get("QICOURSE_ROOT")
    if env:
        return Path(env).resolve()
    candidates = [_PACKAGE_DIR.parent.parent, *Path.cwd().resolve().parents, Path.cwd().resolve()]
    for c in candidates:
        if (c / "datasets").is_dir() and (c / "pyproject.toml").is_file():
            return c
    raise FileNotFoundError(
        "Cannot find the qicourse repository (a folder with pyproject.toml and datasets/). "
        "Run from inside the repository or set QICOURSE_ROOT."
    )


def datasets_dir() -> Path:
    """Folder of the ward datasets: `QICOURSE_DATA`, else `./datasets` or a parent's, else the repository's.

    A grading sandbox copies the datasets next to the notebook, so the working directory is
    searched before the repository.
    """
    env = os.environ.get("QICOURSE_DATA")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for c in (here, *here.parents):
        if (c / "datasets").is_dir() and any((c / "datasets").glob("*.csv")):
            return c / "datasets"
    return repo_root() / "datasets"
