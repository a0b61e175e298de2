"""Grading pipeline pieces that need no grading run: release determinism and leaks, collect, repair,
and the warm worker's isolation between submissions."""

from __future__ import annotations

import copy
import filecmp
import io
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from qicourse.grading import collect, release, setup_course
from qicourse.grading.sandbox import Limits, WorkerPool
from qicourse.grading.submission import SubmissionError, read_submission, repair
from qicourse.paths import repo_root

FX = Path(__file__).parent / "fixtures" / "grading"
REPO = repo_root()


def _hidden_and_solution_text(source: Path) -> list[str]:
    """Lines that must never reach learners: solution code and hidden tests (non-trivial lines only)."""
    secret, public = [], set()
    for cell in nbformat.read(source, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution"):  # a model written answer: all of it is secret
            secret += [ln.strip() for ln in cell.source.splitlines() if len(ln.strip()) > 12 and ln.strip() != "YOUR ANSWER HERE"]
            continue
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line or "### BEGIN HIDDEN TESTS" in line or "### BEGIN MARK SCHEME" in line:
                inside = True
                continue
            if "### END" in line:
                inside = False
                continue
            if inside and len(line.strip()) > 12 and not line.strip().startswith("#"):
                secret.append(line.strip())
            elif not inside:
                public.add(line.strip())
    return [line for line in secret if line not in public]  # lines also shown to learners are not secrets


def test_fixture_release_is_deterministic_and_leaks_nothing(tmp_path):
    """Does releasing twice give identical files, with no solution, hidden test or marker in them?"""
    a = release(course_dir=tmp_path / "c1", solutions_dir=FX / "solutions", exercises_dir=tmp_path / "e1")
    release(course_dir=tmp_path / "c2", solutions_dir=FX / "solutions", exercises_dir=tmp_path / "e2")
    files = a["fx_ward"]
    assert files and all(f.is_file() for f in files)
    for f in files:
        assert filecmp.cmp(f, tmp_path / "e2" / "fx_ward" / f.name, shallow=False)
        text = f.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert str(tmp_path) not in text
        lines = {ln.strip() for c in nbformat.read(f, as_version=4).cells for ln in c.source.splitlines()}
        secrets = _hidden_and_solution_text(FX / "solutions" / "fx_ward" / "fx_ward.ipynb")
        assert secrets  # the fixture does have solutions and hidden tests to hide
        for line in secrets:
            assert line not in lines, f"leaked into the release: {line}"


def _repo_assignments() -> list[str]:
    sol = REPO / "solutions"
    return sorted(p.name for p in sol.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if sol.is_dir() else []


@pytest.mark.pipeline
def test_committed_exercises_match_solutions_and_leak_nothing(tmp_path):
    """Do the committed exercises/ equal a fresh release of solutions/, with nothing secret in any file?"""
    assignments = [a for a in _repo_assignments() if (REPO / "exercises" / a).is_dir()]
    if not assignments:
        pytest.skip("no released assignment in exercises/ yet")
    release(assignments, course_dir=tmp_path / "c", solutions_dir=REPO / "solutions", exercises_dir=tmp_path / "ex")
    for a in assignments:
        fresh = sorted(p.name for p in (tmp_path / "ex" / a).iterdir())
        committed = sorted(p.name for p in (REPO / "exercises" / a).iterdir()  # not git-ignored `check` reports
                           if p.name != ".ipynb_checkpoints" and not p.name.endswith(".check.html"))
        assert fresh == committed, f"exercises/{a} drifted from solutions/{a}: run `qicourse release {a}`"
        for name in fresh:
            assert filecmp.cmp(tmp_path / "ex" / a / name, REPO / "exercises" / a / name, shallow=False), \
                f"exercises/{a}/{name} drifted from solutions/: run `qicourse release {a}`"
        secrets = [line for nb in (REPO / "solutions" / a).glob("*.ipynb") for line in _hidden_and_solution_text(nb)]
        for f in (REPO / "exercises" / a).rglob("*"):
            if f.is_file() and not f.name.endswith(".check.html"):
                text = f.read_text(errors="replace")
                assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "MARK SCHEME" not in text
                lines = ({ln.strip() for c in nbformat.read(f, as_version=4).cells for ln in c.source.splitlines()}
                         if f.suffix == ".ipynb" else {ln.strip() for ln in text.splitlines()})
                for line in secrets:
                    assert line not in lines, f"{f} leaks: {line}"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("collect")
    students = root / "students.csv"
    students.write_text("id,first_name,last_name,email,lms_id\n"
                        "ada,Ada,Lovelace,ada@example.ac.uk,12345\n"
                        "mary,Mary,Seacole,mary@example.ac.uk,23456\n"
                        "john,John,Snow,john@example.ac.uk,\n")
    release(course_dir=root / "course", solutions_dir=FX / "solutions", exercises_dir=root / "ex")
    return setup_course(course_dir=root / "course", solutions_dir=FX / "solutions", students=students)


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_collect_moodle_zip_reports_everything(course, tmp_path):
    """Are Moodle files matched by LMS id or name, and unknown/duplicate/non-notebook files reported?"""
    nb = (course.root / "release" / "fx_ward" / "fx_ward.ipynb").read_bytes()
    z = _zip(tmp_path / "moodle.zip", {
        "Ada Lovelace_12345_assignsubmission_file_fx_ward.ipynb": nb,
        "Ada Lovelace_12345_assignsubmission_file_fx_ward (1).ipynb": nb,
        "John Snow_99999_assignsubmission_file_my work.ipynb": nb,
        "Stranger Danger_55555_assignsubmission_file_fx_ward.ipynb": nb,
        "Mary Seacole_23456_assignsubmission_file_notes.docx": b"PK",
        "Mary Seacole_23456_assignsubmission_file_/fx_ward.ipynb": nb,  # newer Moodle: a folder per learner
    })
    rep = collect("fx_ward", z, course_dir=course.root, timestamp="2026-01-05 10:00:00 UTC")
    assert sorted(rep.imported) == ["ada", "john", "mary"]
    assert len(rep.duplicates) == 1 and rep.duplicates[0].startswith("ada")
    assert len(rep.unknown_students) == 1 and "55555" in rep.unknown_students[0]
    assert len(rep.not_notebooks) == 1 and "docx" in rep.not_notebooks[0]
    sub = course.root / "submitted" / "john" / "fx_ward"
    assert (sub / "fx_ward.ipynb").read_bytes() == nb  # renamed to the assignment's notebook
    assert (sub / "timestamp.txt").read_text() == "2026-01-05 10:00:00 UTC"
    assert "unknown student" in rep.to_text()


def test_collect_canvas_zip_and_folder(course, tmp_path):
    """Does Canvas naming (lastfirst_userid_subid_file, with _late) map through the LMS id, and a folder import work?"""
    nb = (course.root / "release" / "fx_ward" / "fx_ward.ipynb").read_bytes()
    z = _zip(tmp_path / "canvas.zip", {
        "seacolemary_late_23456_777_fx_ward.ipynb": nb,
        "nobodyknown_88888_778_fx_ward.ipynb": nb,
    })
    rep = collect("fx_ward", z, course_dir=course.root)
    assert list(rep.imported) == ["mary"] and len(rep.unknown_students) == 1
    folder = tmp_path / "subs"
    (folder / "ada" / "fx_ward").mkdir(parents=True)
    (folder / "ada" / "fx_ward" / "fx_ward.ipynb").write_bytes(nb)
    (folder / "ada" / "fx_ward" / "data.csv").write_text("x\n")
    (folder / "ghost" / "fx_ward").mkdir(parents=True)
    (folder / "ghost" / "fx_ward" / "fx_ward.ipynb").write_bytes(nb)
    rep = collect("fx_ward", folder, course_dir=course.root)
    assert list(rep.imported) == ["ada"]
    assert rep.unknown_students == ["ghost/fx_ward.ipynb"] and rep.not_notebooks == ["ada/data.csv"]
    with pytest.raises(FileNotFoundError):
        collect("fx_ward", tmp_path / "missing", course_dir=course.root)


def test_read_submission_rejects_broken_files(tmp_path):
    """Is each kind of broken file a named SubmissionError rather than a crash?"""
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [')
    with pytest.raises(SubmissionError, match="invalid JSON"):
        read_submission(bad)
    bad.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 99, "nbformat_minor": 0}))
    with pytest.raises(SubmissionError, match="format 99"):
        read_submission(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(SubmissionError, match="not a notebook"):
        read_submission(bad)


def test_repair_restores_deleted_renamed_and_retyped_cells(course):
    """Are deleted tests and locked cells put back in place, renamed ids neutralised, and each noted?"""
    rel = nbformat.read(course.root / "release" / "fx_ward" / "fx_ward.ipynb", as_version=4)
    nb = nbformat.read(course.root / "release" / "fx_ward" / "fx_ward.ipynb", as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    del nb.cells[ids.index("setup")]
    nb.cells[[c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells].index("rates_test")].metadata["nbgrader"]["grade_id"] = "mine"
    rep = repair(nb, rel)
    fixed = [c.metadata.get("nbgrader", {}).get("grade_id") for c in rep.nb.cells]
    assert [i for i in fixed if i] == [i for i in ids if i]
    assert fixed.index("setup") == ids.index("setup")
    assert any("setup" in n for n in rep.notes) and any("mine" in n for n in rep.notes)
    other = nbformat.v4.new_notebook(cells=[
        copy.deepcopy(rel.cells[ids.index("setup")]),  # every assignment has a locked `setup` cell
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "q9", "grade": True, "points": 1}})])
    with pytest.raises(SubmissionError, match="another assignment"):
        repair(other, rel)
    stripped = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(SubmissionError, match="none of the assignment's graded cells"):
        repair(stripped, rel)


def _task(i, cells, limits):
    return {"id": i, "limits": limits.as_dict(), "cells": [{"index": k, "source": s, "kind": "other"} for k, s in enumerate(cells)]}


def test_no_state_leaks_between_submissions_on_one_worker(tmp_path):
    """Is a global, a monkeypatched module or a written file of one learner invisible to the next on the same worker?"""
    limits = Limits(cell_timeout=10, notebook_timeout=30)
    first = ["import pandas, builtins, os\npandas.LEAKED = 1\nbuiltins.LEAKED = 2\nsecret = 3\nopen('left_behind.txt', 'w').write('x')\nprint(os.getcwd())"]
    second = ["import pandas, builtins, os\nprint(hasattr(pandas, 'LEAKED'), hasattr(builtins, 'LEAKED'), 'secret' in globals(), "
              "os.path.exists('left_behind.txt'))\nprint(os.getcwd())"]
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        out = [res for _, res in pool.run([_task(0, first, limits), _task(1, second, limits)])]
    by_id = {r["id"]: r for r in out}
    text0 = by_id[0]["cells"]["0"]["outputs"][0]["text"]
    text1 = by_id[1]["cells"]["0"]["outputs"][0]["text"]
    assert text1.splitlines()[0] == "False False False False"
    assert text0.splitlines()[0] != text1.splitlines()[1]  # a fresh directory per submission


def test_worker_output_and_time_limits(tmp_path):
    """Are runaway output and a loop that ignores the courtesy alarm both stopped and reported (by the tester,
    which kills the learner process), with later cells not run?"""
    limits = Limits(cell_timeout=1, notebook_timeout=20, max_output_bytes=10_000, kill_grace=2)
    cells = ["for _ in range(20_000):\n    print('x' * 100)",
             "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",
             "print('never')"]
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        (_, res), = list(pool.run([_task(0, cells, limits)]))
    first = res["cells"]["0"]
    assert len(first["outputs"][0]["text"]) <= 10_000
    assert any(e["kind"] == "output" for e in first["events"])
    assert res["stopped"] == {"cell": 1, "why": "cell exceeded the 1 s time limit"}
    assert [e["kind"] for e in res["cells"]["1"]["events"]] == ["timeout"]
    assert "2" not in res["cells"] and not res["done"]


def test_progress_is_plain_text_off_a_terminal():
    """Without a terminal, does the progress report print whole lines with done/total, problems and time left?"""
    from qicourse.grading.autograde import Progress

    out = io.StringIO()
    bar = Progress(4, stream=out)
    for failed in (False, True, False, False):
        bar.update(failed)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and lines[-1].startswith("grading: 4/4 done, 1 with problems")
    assert all("s left" in line for line in lines)


def test_processes_started_by_a_notebook_do_not_outlive_it(tmp_path):
    """Are subprocesses and forks a notebook leaves running killed when it finishes?"""
    import subprocess

    marker = f"qicourse-leftover-{tmp_path.name}"
    # the marker is each process's argv[0], so pgrep can find it
    cells = [f"import shutil, subprocess\nsubprocess.Popen(['{marker}', '300'], executable=shutil.which('sleep'))",
             f"import os, shutil\nif os.fork() == 0:\n    os.execv(shutil.which('sleep'), ['{marker}', '301'])",
             "print('done')"]
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        (_, res), = list(pool.run([_task(0, cells, Limits(cell_timeout=5, notebook_timeout=20))]))
        # checked while the worker (and its sandbox) is still alive
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    assert res["done"] and res["cells"]["2"]["outputs"][0]["text"] == "done\n"
    assert left == []


def test_monkeypatched_course_functions_are_restored_for_the_tests():
    """If a learner replaces a qicourse function a hidden test calls, is it put back and reported?"""
    limits = Limits(cell_timeout=10, notebook_timeout=30)
    task = {"id": 0, "limits": limits.as_dict(), "cells": [
        {"index": 0, "kind": "solution", "source": "import qicourse.paths\nqicourse.paths.datasets_dir = lambda: 'fake'"},
        {"index": 1, "kind": "test", "source": "import qicourse.paths\nprint(qicourse.paths.datasets_dir.__name__)"},
    ]}
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        (_, res), = list(pool.run([task]))
    assert res["cells"]["1"]["outputs"][0]["text"] == "datasets_dir\n"
    events = [e for c in res["cells"].values() for e in c["events"] if e["kind"] == "protected"]
    assert events and "qicourse.paths.datasets_dir" in events[0]["detail"]


def test_chart_facts_follow_the_rules_of_a_p_chart():
    """Do the facts read from a learner's chart data name exactly the signals it shows (limits, Anhøj runs, trend)?"""
    from qicourse.grading.facts import capstone_chart_facts, chart_signals

    flat = [0.50, 0.52, 0.48, 0.51, 0.49] * 6  # alternating about the centre line: no signal
    n = len(flat)
    assert chart_signals(flat, [0.5] * n, [0.2] * n, [0.8] * n)["chart_signals"] == []
    spike = flat[:10] + [0.95] + flat[11:]
    assert chart_signals(spike, [0.5] * n, [0.2] * n, [0.8] * n)["chart_signals"] == ["outside_limits"]
    step = flat[:12] + [0.6] * 18  # 18 points above: longer than round(log2 30) + 3 = 8, and few crossings
    assert chart_signals(step, [0.5] * n, [0.2] * n, [0.8] * n)["chart_signals"] == ["crossings", "shift"]
    rising = [0.30 + 0.01 * i for i in range(7)]
    assert "trend" in chart_signals(rising, [0.33] * 7, [0.0] * 7, [1.0] * 7)["chart_signals"]
    import pandas as pd

    frame = pd.DataFrame({"p": step, "cl": 0.5, "lcl": 0.2, "ucl": 0.8})
    assert capstone_chart_facts({"p_limits": frame})["chart_signals"] == ["crossings", "shift"]
    assert capstone_chart_facts({}) is None
    assert capstone_chart_facts({"p_limits": [1, 2, 3]}) is None
    assert capstone_chart_facts({"p_limits": frame.rename(columns={"p": "proportion"})}) is None


def test_worker_sends_facts_from_the_learners_variables():
    """After the last cell, does the worker read the capstone chart facts from the learner's own `p_limits`?"""
    limits = Limits(cell_timeout=10, notebook_timeout=30)
    make = ("import pandas as pd\n"
            "p_limits = pd.DataFrame({'p': [0.5, 0.52, 0.48, 0.51] * 3 + [0.95], 'cl': 0.5, 'lcl': 0.2, 'ucl': 0.8})")
    tasks = [dict(_task(0, [make], limits), facts_probes=["capstone"]),
             dict(_task(1, ["p_limits = 'not a table'"], limits), facts_probes=["capstone"]),
             _task(2, [make], limits)]
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        out = {t["id"]: res for t, res in pool.run(tasks)}
    assert out[0]["facts"]["capstone"]["chart_signals"] == ["outside_limits"]
    assert out[0]["facts"]["capstone"]["n_points"] == 13
    assert out[1]["facts"] == {} and out[2]["facts"] == {}


def test_legitimate_stream_swaps_are_never_flagged_and_output_is_still_captured():
    """Code that replaces sys.stdout/stderr (redirect left open, widget capture, logging) or uses a temporary
    file: no flag, and later cells' output still kept?"""
    limits = Limits(cell_timeout=10, notebook_timeout=30)
    cells = [
        ("locked", "import sys, io, contextlib\nprint('setup')"),
        ("solution", "sys.stdout = io.StringIO()\nsys.stderr = io.StringIO()\nprint('swallowed')"),
        ("solution", "keep = contextlib.redirect_stdout(io.StringIO())\nkeep.__enter__()"),
        ("solution", "import ipywidgets, logging\nout = ipywidgets.Output()\nwith out:\n    print('in widget')\n"
                     "logging.basicConfig()\nlogging.warning('logged')\n"
                     "import tempfile\nwith tempfile.NamedTemporaryFile() as fh:\n    fh.write(b'scratch')"),
        ("test", "print('test out')\nprint('test err', file=sys.stderr)\nassert True"),
        ("locked", "print('after')"),
    ]
    task = {"id": 0, "limits": limits.as_dict(),
            "cells": [{"index": i, "kind": k, "source": src} for i, (k, src) in enumerate(cells)]}
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        (_, res), = list(pool.run([task]))
    assert res["done"] and all(c["events"] == [] for c in res["cells"].values()), res["cells"]
    text = lambda i: "".join(o.get("text", "") for o in res["cells"][str(i)]["outputs"])  # noqa: E731
    assert "logged" in text(3)
    assert text(4) == "test out\ntest err\n" and text(5) == "after\n"


def test_names_bound_by_locked_cells_are_the_testers_own():
    """If a learner rebinds a helper the locked set-up cell defined (and a hidden test uses), does the test still
    see the locked cell's value (the tester ran that cell itself), and only the learner's own names come from them?"""
    limits = Limits(cell_timeout=10, notebook_timeout=30)
    setup = "import pandas\nfalls = pandas.DataFrame({'a': [1, 2]})\nrate = 0.5\n"
    task = {"id": 0, "limits": limits.as_dict(), "cells": [
        {"index": 0, "kind": "locked", "source": setup + "from pandas.testing import assert_series_equal\nexpected = 42"},
        {"index": 1, "kind": "solution", "source": setup + "assert_series_equal = lambda *a, **k: None\nexpected = 0"},
        {"index": 2, "kind": "test", "source": "print(assert_series_equal.__module__, expected)"},
    ]}
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        (_, res), = list(pool.run([task]))
    assert res["cells"]["2"]["outputs"][0]["text"] == "pandas.testing 42\n"


def test_tampering_with_the_grading_shell_is_undone_and_reported():
    """Can learner code stop hidden tests running or their failures being recorded? (It must not.)"""
    limits = Limits(cell_timeout=10, notebook_timeout=30)
    attacks = {
        "run_cell": "get_ipython().run_cell = lambda *a, **k: None",
        "class": "from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.run_cell = lambda *a, **k: None",
        "traceback": "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None",
        "ast": "import ast\nclass T(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return ast.Pass()\n"
               "get_ipython().ast_transformers.append(T())",
        "input": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
        "custom_exc": "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)",
        "sink": "import gc, qicourse.grading.executor as ex\nfor o in gc.get_objects():\n"
                "    if isinstance(o, ex._Outputs):\n        o.add = lambda output: None",
    }
    tasks = [{"id": i, "limits": limits.as_dict(), "cells": [
        {"index": 0, "kind": "solution", "source": src},
        {"index": 1, "kind": "test", "source": "assert False, 'hidden test failed'"}]} for i, src in enumerate(attacks.values())]
    with WorkerPool(1, datasets_dir=None, hidden=[REPO / "solutions"]) as pool:
        out = {t["id"]: res for t, res in pool.run(tasks)}
    for i, name in enumerate(attacks):
        res = out[i]
        assert [o.get("ename") for o in res["cells"]["1"]["outputs"]] == ["AssertionError"], (name, res["cells"])
        assert any(e["kind"] == "protected" for e in res["cells"]["0"]["events"]), (name, res["cells"]["0"])
