"""Hostile learners who try to forge results or dodge time limits, graded in one batch on one worker with
honest learners between them: the attacks earn nothing and the honest learners keep exactly their marks."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat
import pytest

from qicourse.grading import Limits, grade, release, setup_course
from qicourse.grading.cohort import solved
from qicourse.grading.sandbox import WorkerPool
from qicourse.paths import repo_root

pytestmark = pytest.mark.pipeline
FX = Path(__file__).parent / "fixtures" / "grading"
SRC = FX / "solutions" / "fx_ward" / "fx_ward.ipynb"
LIMITS = Limits(cell_timeout=3, notebook_timeout=60, memory_bytes=512 << 20, kill_grace=2)
TESTS = ("falls_rate_test", "baseline_median_test", "rates_test")
POINTS = {"falls_rate_test": 2, "baseline_median_test": 1, "rates_test": 2}

# Every fd it can reach for writing: its own, and those of every process it can see (in the sandbox: the worker,
# the tester). Written into, with "passed" for every test cell, by FORGE in the next cell.
REACH = '''
import os
_targets = [("self", int(n)) for n in os.listdir("/proc/self/fd")]
for _pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        _targets += [(_pid, int(n)) for n in os.listdir(f"/proc/{_pid}/fd")]
    except OSError:
        pass
_reached = set()
for _who, _n in _targets:
    try:
        _fd = _n if _who == "self" else os.open(f"/proc/{_who}/fd/{_n}", os.O_WRONLY | os.O_NONBLOCK)
        _reached.add((_who, os.readlink(f"/proc/self/fd/{_fd}")))
    except OSError:
        pass
print("can write to:", sorted(_reached))
'''

# "passed" for every test cell, in every protocol the grader has used (JSON lines, length-prefixed frames)
FORGE = '''
import json, os, struct
_tests = {tests}
_lines = b"".join(json.dumps({{"cell": i, "outputs": [], "execution_count": 1, "seconds": 0.0, "events": []}}).encode()
                  + b"\\n" for i in _tests) + b'{{"done": true}}\\n'
_result = json.dumps({{"id": 0, "cells": {{str(i): {{"cell": i, "outputs": [], "events": []}} for i in _tests}},
                      "done": True, "fatal": None, "killed": None, "exit": None, "seconds": 0.1, "facts": {{}}}}).encode()
_frames = [struct.pack("!Q", len(_result)) + _result]
for _seq in range(1, 40):
    _m = json.dumps({{"seq": _seq, "outputs": [], "events": [], "values": {{}}, "ok": 2.0}}).encode()
    _frames.append(struct.pack("!Q", len(_m)) + _m)
for _who, _n in _targets:
    try:
        if _who == "self":
            _fd = _n
            os.set_blocking(_fd, False)
        else:
            _fd = os.open(f"/proc/{{_who}}/fd/{{_n}}", os.O_WRONLY | os.O_NONBLOCK)
        for _p in [_lines] + _frames:
            os.write(_fd, _p)
    except OSError:
        pass
'''

DEEP = "def _deep(n):\n    return _deep(n - 1) if n else _spin()\n"
LOOPS = {
    "loop_sig_ign": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                    "def _spin():\n    while True:\n        pass\n" + DEEP + "_deep(50)",
    "loop_own_handler": "import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)\nsignal.setitimer(signal.ITIMER_REAL, 0)\n"
                        "def _spin():\n    while True:\n        pass\n" + DEEP + "_deep(50)",
    "loop_catch_all": "def _spin():\n    while True:\n        try:\n            while True:\n                pass\n"
                      "        except BaseException:\n            continue\n" + DEEP + "_deep(50)",
    "loop_in_repr": "class _Bad:\n    def __repr__(self):\n        while True:\n            try:\n                while True:\n"
                    "                    pass\n            except BaseException:\n                pass\n"
                    "def _spin():\n    raise ValueError(_Bad())\n" + DEEP + "_deep(50)",
}

WARNS_FN = ("import warnings\nimport matplotlib.pyplot as plt\n"
            "def falls_rate(falls, bed_days):\n    warnings.warn('the default will change', FutureWarning)\n"
            "    fig, ax = plt.subplots()\n    ax.legend()  # UserWarning: no artists with labels\n    plt.close(fig)\n"
            "    return 1000 * falls / bed_days")

SPIN_FN = ("def falls_rate(falls, bed_days):\n    while True:\n        try:\n            while True:\n                pass\n"
           "        except BaseException:\n            pass")

CUSTOM = {
    # answers (falls_rate, baseline_median, rates cells) that "equal" anything
    "custom_eq": ("class _Yes(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\n"
                  "    def __sub__(self, other):\n        return 0.0\n    def __rsub__(self, other):\n        return 0.0\n"
                  "class _Any:\n    def __eq__(self, other):\n        return True\n"
                  "def falls_rate(falls, bed_days):\n    return _Yes(0)",
                  "baseline_median = _Any()",
                  "class _Rates(pd.Series):\n    def equals(self, other):\n        return True\n"
                  "def rates(df):\n    return _Rates([0.0] * len(df))"),
    # wrong answers, and a thread that keeps changing the names tests rely on (set-up data, pandas.testing) between
    # and during test cells (its own answers are its own to change: they are wrong here)
    "thread": ("import threading, time, pandas.testing\n"
               "def falls_rate(falls, bed_days):\n    return 0\n"
               "def _meddle():\n    g = globals()\n    while True:\n"
               "        g['ward'] = pd.DataFrame({'falls': [], 'bed_days': []})\n"
               "        g['ward'].loc[:, 'falls'] = 0\n"
               "        pandas.testing.assert_series_equal = lambda *a, **k: None\n"
               "        time.sleep(0.0005)\n"
               "threading.Thread(target=_meddle, daemon=True).start()",
               "baseline_median = 0",
               "def rates(df):\n    return df['falls']"),
    # the runner and the codec in the learner's process replaced to answer "correct" for everything; stubs left
    "patch_runner": ("import qicourse.grading.executor as _ex, qicourse.grading.plain as _pl, qicourse.grading.tester as _t\n"
                    "_ex.WarmRunner._call = lambda self, msg: {'ok': 2.0, 'after': {}}\n"
                    "_ex.WarmRunner._value = lambda self, name: {'ok': 2}\n"
                    "_pl.encode = lambda value, handle_for=None, _depth=0: 2\n"
                    "_t.Tester._error_output = lambda self, exc: {'output_type': 'stream', 'name': 'stdout', 'text': 'ok'}\n"
                    "_t.LIBRARY_ASSERTION = 'passed'\n"
                    "get_ipython().run_cell = lambda *a, **k: None", None, None),
}


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == grade_id)


def _with_cell(nb, after: str, *sources: str):
    nb = copy.deepcopy(nb)
    at = _index(nb, after) + 1
    nb.cells[at:at] = [nbformat.v4.new_code_cell(src) for src in sources]
    return nb


PATCH_TESTER = ("import qicourse.grading.tester as _t\n"
                "_t.Tester._error_output = lambda self, exc: {'output_type': 'stream', 'name': 'stdout', 'text': 'ok'}")


def _with_locked(nb, after: str, source: str):
    nb = _with_cell(nb, after, source)
    nb.cells[_index(nb, after) + 1].metadata["nbgrader"] = {"locked": True, "grade": False, "solution": False,
                                                           "schema_version": 3}
    return nb


def _answers(nb, sources):
    nb = copy.deepcopy(nb)
    for gid, src in zip(("falls_rate", "baseline_median", "rates"), sources):
        if src is not None:
            nb.cells[_index(nb, gid)].source = src
    return nb


def _loop_label(full) -> str:
    """How the grader names the cell inserted after the first test (no grade id: its position)."""
    return f"cell {_index(full, 'falls_rate_test') + 2}"


def _cohort(full, blank) -> dict[str, tuple]:
    """student -> (notebook, expected auto score per test, what the reasons must say). Sorted names: one worker
    grades them in this order, an honest learner after every hostile one."""
    test_cells = [i + 2 if i > _index(blank, "falls_rate") else i for i, c in enumerate(blank.cells)
                  if _meta(c).get("grade_id") in TESTS]  # indices after the two forging cells are inserted
    forge = FORGE.format(tests=test_cells)
    zero = dict.fromkeys(TESTS, 0)
    fullmarks = dict(POINTS)
    first_only = dict(zero, falls_rate_test=2)  # the loop comes after the first test: later tests are not credited
    cases = {
        "forge_continue": (_with_cell(blank, "falls_rate", REACH, forge), zero, "broke the grading protocol"),
        "forge_exit": (_with_cell(blank, "falls_rate", REACH, forge + "os._exit(0)"), zero, ""),
        "forge_solved_then_exit": (_with_cell(full, "falls_rate", REACH, forge + "os._exit(0)"), zero, ""),
        **{name: (_with_cell(full, "falls_rate_test", src), first_only,
                  f"stopped: cell exceeded the 3 s time limit in {_loop_label(full)}") for name, src in LOOPS.items()},
        # the test calls a function that never returns (and swallows the alarm): stopped from the tester's side
        "loop_when_called": (_answers(full, (SPIN_FN, None, None)), zero,
                             "stopped: cell exceeded the 3 s time limit in 'falls_rate_test'"),
        # not hostile: a correct answer whose function warns (pandas-style FutureWarning, matplotlib UserWarning)
        "warns": (_answers(full, (WARNS_FN, None, None)), fullmarks, ""),
        # a cell of its own marked "locked" (no grade id): if the tester ran it, every failing test would print "ok";
        # nbgrader's own steps also failed on it, stopping the whole cohort's grading
        "fake_locked_cell": (_with_locked(blank, "falls_rate", PATCH_TESTER), zero, "marked for grading without a grade id"),
        "custom_objects": (_answers(blank, CUSTOM["custom_eq"]), zero, ""),
        "thread": (_answers(blank, CUSTOM["thread"]), zero, ""),
        # its process now answers 2 for every name: worth exactly what `baseline_median = 2` is (the right median),
        # and nothing it patched changes how the tester runs or scores the tests
        "patch_runner": (_answers(blank, CUSTOM["patch_runner"]), dict(zero, baseline_median_test=1),
                         "changed names the tests rely on"),
    }
    cohort = {}
    for k, (name, case) in enumerate(cases.items()):
        cohort[f"h{k:02d}_{name}"] = case
        cohort[f"h{k:02d}_zz_honest"] = (full, fullmarks, "")
    return cohort


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    course_dir = root / "course"
    release(course_dir=course_dir, solutions_dir=FX / "solutions", exercises_dir=root / "ex")
    course = setup_course(course_dir=course_dir, solutions_dir=FX / "solutions")
    rel = nbformat.read(course_dir / "release" / "fx_ward" / "fx_ward.ipynb", as_version=4)
    full = solved(nbformat.read(SRC, as_version=4), rel)
    cohort = _cohort(full, rel)
    for student, (nb, _, _) in cohort.items():
        dest = course_dir / "submitted" / student / "fx_ward"
        dest.mkdir(parents=True)
        nbformat.write(nb, str(dest / "fx_ward.ipynb"))
    run = grade("fx_ward", course_dir=course_dir, workers=1, limits=LIMITS, datasets_dir=FX / "datasets",
                progress=False, mark_writeups=False)
    return {"course": course, "cohort": cohort, "results": {r.student: r for r in run.results}, "sandbox": run.sandbox,
            "loop_label": _loop_label(full)}


def _auto(result) -> dict:
    return {q["grade_id"]: q["score"] for q in result.questions if q["grade_id"] in TESTS}


def test_every_attack_earns_only_what_its_honest_answers_would(graded):
    """Forged messages on every reachable fd, loops that dodge the alarm, custom objects, a meddling thread, a
    patched runner: does each get exactly the marks of the tests it honestly passed, and is it never 'ok'?"""
    for student, (_, expected, phrase) in graded["cohort"].items():
        r = graded["results"][student]
        assert _auto(r) == expected, (student, _auto(r), r.reasons)
        if "honest" in student:
            assert r.status == "ok" and r.reasons == [], (student, r.reasons)
        elif student.split("_", 1)[1] not in ("custom_objects", "thread", "warns"):
            assert r.status in ("flagged", "incomplete"), (student, r.status, r.reasons)
        assert phrase in "; ".join(r.reasons), (student, r.reasons)


def test_forgery_reached_no_channel_the_grader_trusts(graded):
    """Could the forging notebook write to its socket to the tester (where its messages went), and under bubblewrap
    to no other process's pipe or socket (not the worker's pipes to the grader, nor the tester's pipe to the worker;
    the learner's own namespace init holds only /dev/null)?"""
    nb = nbformat.read(graded["course"].root / "autograded" / "h00_forge_continue" / "fx_ward" / "fx_ward.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    reached = ast.literal_eval(text.split("can write to:")[1].strip().splitlines()[0])
    assert any(who == "self" and link.startswith("socket:") for who, link in reached), reached
    if graded["sandbox"] == "bwrap":
        assert {link for who, link in reached if who != "self"} <= {"/dev/null"}, reached


def test_loops_are_stopped_from_outside_and_named(graded):
    """Is each alarm-dodging loop recorded as a timeout in the cell that looped, the run incomplete and finished?"""
    for student, r in graded["results"].items():
        if student.split("_", 1)[1] not in LOOPS:
            continue
        assert r.status == "incomplete", (student, r.reasons)
        assert any(x.startswith(f"timeout in {graded['loop_label']}") for x in r.reasons), (student, r.reasons)
        nb = nbformat.read(graded["course"].root / "autograded" / student / "fx_ward" / "fx_ward.ipynb", as_version=4)
        later = [c for c in nb.cells if _meta(c).get("grade_id") in ("baseline_median_test", "rates_test")]
        assert all([o.get("ename") for o in c.outputs] == ["NotExecuted"] for c in later), student


def test_warnings_from_a_correct_answer_cost_nothing(graded):
    """Does a correct answer whose function raises a FutureWarning and a matplotlib UserWarning keep full marks and
    status ok, with the warnings only noted?"""
    r = graded["results"]["h08_warns"]
    assert _auto(r) == POINTS and r.status == "ok" and r.reasons == [], (r.reasons, r.notes)
    assert any("FutureWarning: the default will change" in n and "UserWarning" in n for n in r.notes), r.notes


def test_custom_objects_are_refused_with_a_reason(graded):
    """Is an answer that is a learner class, a float subclass or a pandas subclass refused, naming its type?"""
    nb = nbformat.read(graded["course"].root / "autograded" / "h10_custom_objects" / "fx_ward" / "fx_ward.ipynb", as_version=4)
    errors = {_meta(c)["grade_id"]: o for c in nb.cells if _meta(c).get("grade_id") in TESTS for o in c.outputs
              if o.get("output_type") == "error"}
    assert set(errors) == set(TESTS)
    for gid, out in errors.items():
        assert out["ename"] == "AnswerRefused" and "use plain Python, NumPy or pandas types" in out["evalue"], (gid, out)
    assert "_Rates" in errors["rates_test"]["evalue"] and "_Any" in errors["baseline_median_test"]["evalue"]


def _run(cells, limits=Limits(cell_timeout=5, notebook_timeout=30)):
    task = {"id": 0, "limits": limits.as_dict(),
            "cells": [{"index": i, "kind": kind, "source": src} for i, (kind, src) in enumerate(cells)]}
    with WorkerPool(1, datasets_dir=None, hidden=[repo_root() / "solutions"]) as pool:
        (_, res), = list(pool.run([task]))
    return res


def test_test_cells_show_no_warnings_expected_values_or_hidden_source():
    """Warnings from learner code cost nothing (a note instead), a stub says 'not answered yet', a failing
    numpy assertion shows no DESIRED values, and no error shows a test's source lines?"""
    setup = ("locked", "import numpy as np\nimport pandas as pd\nimport warnings")
    answer = ("solution", "def rate(x):\n    warnings.warn('old API', FutureWarning)\n    warnings.warn('a chart note', UserWarning)\n"
                          "    pd.Series([1]).append if hasattr(pd.Series, 'append') else None\n    return 2 * x\n"
                          "warnings.warn('top-level', FutureWarning)")
    test_ok = ("test", "assert rate(2) == 4\n### BEGIN HIDDEN TESTS\nassert rate(3) == 6\n### END HIDDEN TESTS")
    stub = ("solution", "# YOUR CODE HERE\nraise NotImplementedError()")
    test_stub = ("test", "assert total == 10")
    stub_fn = ("solution", "def later(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    test_stub_fn = ("test", "assert later(1) == 2")
    wrong = ("solution", "values = np.array([1.0, 2.0, 3.0])")
    test_wrong = ("test", "### BEGIN HIDDEN TESTS\nnp.testing.assert_allclose(values, [1.5, 2.5, 3.5], err_msg='SECRET')\n"
                          "### END HIDDEN TESTS")
    res = _run([setup, answer, test_ok, stub, test_stub, stub_fn, test_stub_fn, wrong, test_wrong])
    out = {int(k): v for k, v in res["cells"].items()}
    assert out[2]["outputs"] == [] and [e["kind"] for e in out[2]["events"]] == ["warnings"]
    assert "FutureWarning: old API" in out[2]["events"][0]["detail"]
    for i in (4, 6):
        (err,) = out[i]["outputs"]
        assert (err["ename"], err["evalue"]) == ("NotAnswered", "not answered yet: write your answer in the cell above")
    (err,) = out[8]["outputs"]
    assert (err["ename"], err["evalue"]) == ("AssertionError", "values differ from what was expected")
    shown = str(out[8]) + str(out[2]) + str(out[4])
    for secret in ("DESIRED", "3.5", "SECRET", "assert_allclose", "rate(3)", "HIDDEN"):
        assert secret not in shown, secret


def test_learner_functions_called_by_tests_run_in_the_learner_process():
    """Do a test's calls reach the learner's function (figures rebuilt, exceptions by type, inputs changed in place
    seen by the test), while the test's own names stay the tester's?"""
    cells = [
        ("locked", "import pandas as pd\nimport matplotlib.pyplot as plt\nimport os\ndata = pd.Series([3, 1, 2], name='n')"),
        ("solution", "def chart(s):\n    fig, ax = plt.subplots()\n    ax.plot(s.index, s.values, label='weekly')\n"
                     "    ax.axvline(pd.Timestamp('2024-01-01'), color='grey')\n    ax.set_title('T')\n    ax.set_ylabel('minutes')\n"
                     "    ax.text(0, 1, 'cycle 1')\n    return ax\n"
                     "def pick(d, key):\n    return d[key]\n"
                     "def sort_in_place(s):\n    s.sort_values(inplace=True)\n    return None\n"
                     "def where():\n    return os.getpid()\n"
                     "data = None"),
        ("test", "import matplotlib\n_ax = chart(data)\nassert isinstance(_ax, matplotlib.axes.Axes)\n"
                 "assert _ax.get_title() == 'T' and 'min' in _ax.get_ylabel()\n"
                 "assert [t.get_text() for t in _ax.texts] == ['cycle 1']\n"
                 "assert _ax.get_legend_handles_labels()[1] == ['weekly']\n"
                 "_v = [l for l in _ax.get_lines() if len(set(map(str, l.get_xdata()))) == 1]\n"
                 "assert len(_v) == 1 and pd.Timestamp(_v[0].get_xdata()[0]) == pd.Timestamp('2024-01-01')\n"
                 "try:\n    pick({}, 'x')\n    raise AssertionError('no KeyError')\nexcept KeyError:\n    pass\n"
                 "_s = pd.Series([3, 1, 2])\nsort_in_place(_s)\nassert list(_s) == [1, 2, 3]\n"
                 "assert where() != os.getpid()\nprint('all good')"),
    ]
    res = _run(cells)
    assert res["cells"]["2"]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "all good\n"}], res["cells"]["2"]
