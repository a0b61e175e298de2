"""An install with no clone: a wheel built from this checkout, installed into a fresh virtual environment,
used from folders outside the checkout. The dependencies are this test environment's own, hard-linked
into the new environment (what `pip install` would put there, in a second), so nothing is downloaded
but setuptools for the isolated build (from pip's cache after the first time)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from qicourse.grading.cohort import solved

REPO = Path(__file__).resolve().parent.parent


def _run(venv: Path, args: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QICOURSE_")}
    # the dependencies' commands (nbgrader runs `alembic`) are this environment's, like their modules
    deps_bin = Path(sysconfig.get_paths()["scripts"])
    environment.update({"PATH": os.pathsep.join([str(venv / "bin"), str(deps_bin), os.environ["PATH"]]),
                        "HOME": str(cwd), **env})
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=environment)


@pytest.fixture(scope="module")
def scratch():
    """A private temporary folder outside /tmp: each learner's graded notebook gets a /tmp of its own
    (isolation.py), where an environment in /tmp would vanish; and pytest's temporary folders are
    shared with other pytest sessions on the machine, which may prune them meanwhile."""
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="wheel-", dir=REPO / "test-artifacts"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tmp_path(scratch) -> Path:
    return Path(tempfile.mkdtemp(dir=scratch))


@pytest.fixture(scope="module")
def installed(scratch) -> Path:
    """A fresh venv with the wheel installed (no editable link to this checkout); its root."""
    root = scratch
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)],
                           capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel here (setuptools from PyPI needed): {built.stderr.strip()[-300:]}")
    wheel = next((root / "dist").glob("qicourse-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for part in ("course", "exercises", "solutions", "datasets", "grader/rubrics"):
        assert any(n.startswith(f"qicourse/_assets/{part}/") for n in names), part
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                           "--no-deps", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for dep in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "qicourse" not in dep.name.lower() and not (site / dep.name).exists():  # never the editable link here
            linked = subprocess.run(["cp", "-al", str(dep), str(site / dep.name)], capture_output=True, text=True)
            if linked.returncode != 0:
                pytest.skip(f"cannot hard-link the dependencies into the new environment: {linked.stderr.strip()}")
    return venv


def test_a_learner_needs_no_clone(installed, tmp_path):
    """From a folder outside the checkout: does `init` lay out the course, and do load("falls"), a
    learner's `check` (hidden tests run) and `rubric list` work from the installed package alone?"""
    venv, py = installed, str(installed / "bin" / "python")
    where = _run(venv, [py, "-c", "import qicourse; print(qicourse.__file__)"], tmp_path)
    assert where.stdout.startswith(str(venv)), where
    done = _run(venv, ["qicourse", "init", "mine"], tmp_path)
    assert done.returncode == 0, done.stderr
    mine = tmp_path / "mine"
    assert sorted(p.name for p in mine.iterdir()) == [".qicourse", "course", "datasets", "exercises"]
    assert (mine / "course" / "00_getting_started.ipynb").is_file()
    again = _run(venv, ["qicourse", "init", "mine"], tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    loaded = _run(venv, [py, "-c", "from qicourse.data import load; d = load('falls'); print(len(d))"], mine / "course")
    assert loaded.returncode == 0 and int(loaded.stdout) > 100, loaded
    # a learner's solved exercise passes every hidden test, run from the package's own solutions
    src = venv.glob("lib/python3*/site-packages/qicourse/_assets/solutions/m0_getting_started/*.ipynb")
    src_nb = nbformat.read(next(src), as_version=4)
    exercise = mine / "exercises" / "m0_getting_started" / "m0_getting_started.ipynb"
    nbformat.write(solved(src_nb, nbformat.read(exercise, as_version=4)), str(exercise))
    checked = _run(venv, ["qicourse", "check", str(exercise.relative_to(mine))], mine)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "FAIL" not in checked.stdout and "PASS" in checked.stdout, checked.stdout
    listed = _run(venv, ["qicourse", "rubric", "list"], tmp_path)
    assert listed.returncode == 0 and "smart_aim" in listed.stdout, listed
    (tmp_path / "none").mkdir()
    empty = _run(venv, ["qicourse", "rubric", "list"], tmp_path, QICOURSE_RUBRICS=str(tmp_path / "none"))
    assert empty.returncode == 2 and "No rubric files" in empty.stderr and not empty.stdout, empty


def test_an_educator_copy_is_used_and_the_packaged_answers_stay_hidden(installed, tmp_path):
    """Does `init --educator` add solutions/ and grader/ that `setup` then uses, and does the grading
    sandbox cover the package's own solutions and rubrics?"""
    venv, py = installed, str(installed / "bin" / "python")
    assert _run(venv, ["qicourse", "init", "--educator", "school"], tmp_path).returncode == 0
    school = tmp_path / "school"
    assert {"solutions", "grader"} <= {p.name for p in school.iterdir()}
    done = _run(venv, ["qicourse", "setup"], school / "course", JUPYTER_CONFIG_DIR=str(tmp_path / "jc"),
                JUPYTER_CONFIG_PATH=str(tmp_path / "jp"))
    assert done.returncode == 0, done.stderr
    assert (school / "coursedir" / "gradebook.db").is_file()
    assert (school / "coursedir" / "grader_config.py").read_text() == (school / "grader" / "nbgrader_config.py").read_text()
    peek = ("import glob, subprocess\n"
            "from qicourse.grading.sandbox import WorkerPool\n"
            "from qicourse.paths import PACKAGED_ASSETS\n"
            "pool = WorkerPool(1, datasets_dir=None, hidden=[])\n"
            "if pool.sandbox != 'bwrap':\n    print('no bwrap'); raise SystemExit\n"
            "cmd = pool._command('/tmp/work')\n"
            "inner = 'import glob, pandas; print(len(glob.glob(%r, recursive=True)))' % (str(PACKAGED_ASSETS) + '/**')\n"
            "print(len(glob.glob(str(PACKAGED_ASSETS) + '/**', recursive=True)))\n"
            "print(subprocess.run(cmd[:cmd.index('-m')] + ['-c', inner], capture_output=True, text=True).stdout.strip())\n")
    seen = _run(venv, [py, "-c", peek], tmp_path)
    assert seen.returncode == 0, seen.stderr
    if seen.stdout.strip() == "no bwrap":
        pytest.skip("bubblewrap is not available here: the sandbox's cover over the package's assets is not tested")
    outside, inside = (int(x) for x in seen.stdout.split())
    assert outside > 50 and inside == 1, seen.stdout  # inside: the (empty) folder itself
