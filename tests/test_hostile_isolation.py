"""Hostile learners against the learners graded after them by the same worker: an escaping daemon, a
/tmp flood, a fork bomb, and grading without bubblewrap. Each batch goes through the real `grade` on a
course directory with one worker, hostile learner first; the honest learners must keep exactly their
full marks and the hostile one must be reported with its reason."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from qicourse.grading import Limits, collect, grade, release, setup_course
from qicourse.grading.autograde import NoSandboxError
from qicourse.grading.cohort import ISOLATION_ATTACKS, hostile, solved
from qicourse.grading.isolation import namespaces_available

pytestmark = pytest.mark.pipeline
FX = Path(__file__).parent / "fixtures" / "grading"
SRC = FX / "solutions" / "fx_ward" / "fx_ward.ipynb"
LIMITS = Limits(cell_timeout=5, notebook_timeout=40, memory_bytes=512 << 20, kill_grace=2,
                scratch_bytes=96 << 20, max_processes=32)
FULL = 5  # auto-graded points of fx_ward
WITNESS = ("import glob, os\n"
           "seen = sorted(glob.glob('/tmp/**/flood*', recursive=True) + glob.glob('../**/flood*', recursive=True)"
           " + glob.glob('../*/pwned.txt'))\n"
           "shmem = [l for l in open('/proc/meminfo') if l.startswith('Shmem:')]\n"
           "print('seen', seen, 'host', shmem[0].split()[1] if shmem else 'unknown', 'kB')\n"
           # the review's glob snooping, as one walk (recursive globs over / outrun the cell limit); installed
           # packages and the system are skipped: they hold no course files
           "snooped = []\n"
           "for top, dirs, files in os.walk('/'):\n"
           "    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ('/proc', '/sys', '/dev', '/usr')"
           " and d != 'site-packages']\n"
           "    snooped += [os.path.join(top, f) for f in files if f.endswith(('.ipynb', '.db'))"
           " or 'solutions' in top or 'gradebook' in f]\n"
           "print('snooped', [p for p in snooped if not p.startswith(os.getcwd())])")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """One course; every learner of every batch submitted up front (each test grades its own)."""
    root = tmp_path_factory.mktemp("isolation")
    course_dir = root / "course"
    release(course_dir=course_dir, solutions_dir=FX / "solutions", exercises_dir=root / "ex")
    course = setup_course(course_dir=course_dir, solutions_dir=FX / "solutions")
    rel = course_dir / "release" / "fx_ward" / "fx_ward.ipynb"
    src_nb, rel_nb = nbformat.read(SRC, as_version=4), nbformat.read(rel, as_version=4)
    learners = {}
    for kind in (*ISOLATION_ATTACKS, "infinite_loop"):
        learners[f"a_{kind}"] = hostile(kind, src_nb, rel_nb)
    for n in range(1, 4):
        learners[f"z_honest{n}"] = solved(src_nb, rel_nb)
    witness = solved(src_nb, rel_nb)  # honest, with one cell of its own saying what it can see
    witness.cells.append(nbformat.v4.new_code_cell(WITNESS))
    learners["m_witness"] = witness
    for student, nb in learners.items():
        (root / "subs" / student / "fx_ward").mkdir(parents=True)
        nbformat.write(nb, str(root / "subs" / student / "fx_ward" / "fx_ward.ipynb"))
    collect("fx_ward", root / "subs", course_dir=course_dir)
    return course


def _grade(course, students, **kw):
    return grade("fx_ward", course_dir=course.root, workers=1, limits=LIMITS, datasets_dir=FX / "datasets",
                 students=students, force=True, progress=False, mark_writeups=False, **kw)


def _auto(result) -> float:
    return sum(q["score"] or 0 for q in result.questions if q["grade_id"] != "writeup_aim")


def _assert_honest_untouched(run, honest):
    by = {r.student: r for r in run.results}
    for student in honest:
        r = by[student]
        assert (r.status, r.reasons, _auto(r)) == ("ok", [], FULL), (student, r.status, r.reasons, r.questions)


def _printed(course, student) -> str:
    nb = nbformat.read(course.root / "autograded" / student / "fx_ward" / "fx_ward.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _host_shmem_kb(text: str) -> int:
    return int(re.search(r"host (\d+) kB", text).group(1))


def test_escaping_daemon_is_killed_and_reported(course):
    """Does a setsid() daemon (double fork, SIGTERM/SIGHUP ignored) that kills grading processes and writes
    into other learners' folders die with its own notebook, the next learners keeping their full marks?"""
    run = _grade(course, ["a_escaping_daemon", "z_honest1", "z_honest2", "z_honest3"])
    by = {r.student: r for r in run.results}
    _assert_honest_untouched(run, ["z_honest1", "z_honest2", "z_honest3"])
    bad = by["a_escaping_daemon"]
    assert bad.status == "flagged" and _auto(bad) == FULL, bad.reasons
    assert "processes it left running were killed when it ended" in bad.reasons


def test_tmp_flood_is_capped_private_and_given_back(course):
    """Are 50 MB files written to /tmp and the notebook's folder refused at the scratch cap and reported,
    invisible to the next learner (who cannot find any notebook or gradebook either), and their memory
    given back before it runs?"""
    run = _grade(course, ["a_tmp_flood", "m_witness", "z_honest1"])
    by = {r.student: r for r in run.results}
    _assert_honest_untouched(run, ["m_witness", "z_honest1"])
    bad = by["a_tmp_flood"]
    assert bad.status == "flagged" and _auto(bad) == FULL
    assert any(r.startswith("scratch space full (96 MB") for r in bad.reasons), bad.reasons
    flood = _printed(course, "a_tmp_flood")
    assert "No space left on device" in flood and "written 1 " in flood, flood  # one 50 MB file fits in 96 MB
    seen = _printed(course, "m_witness")
    assert "seen []" in seen and "snooped []" in seen, seen  # nor the course, solutions or gradebook
    # the flood's ~96 MB of tmpfs was freed when its notebook ended (host-wide figure, so some margin)
    assert _host_shmem_kb(seen) < _host_shmem_kb(flood) - (48 << 10), (flood, seen)


def test_fork_bomb_is_contained_and_reported(course):
    """Does a fork bomb stop at the process limit, get reported, and leave the next learners' marks alone?"""
    run = _grade(course, ["a_fork_bomb", "z_honest1", "z_honest2"])
    by = {r.student: r for r in run.results}
    _assert_honest_untouched(run, ["z_honest1", "z_honest2"])
    bad = by["a_fork_bomb"]
    # counted by the kernel (pids.events) or, where it applies, seen as EAGAIN by the notebook itself
    assert any(r.startswith("process limit reached (32 processes)") for r in bad.reasons) or \
        "fork refused: [Errno 11]" in _printed(course, "a_fork_bomb"), bad.reasons
    assert bad.status in ("flagged", "incomplete") and run.seconds < 60, (bad.reasons, run.seconds)


def test_without_bubblewrap_grading_refuses_unless_opted_in(course, monkeypatch, capsys):
    """Without bubblewrap, does grading refuse with one line (CLI exit 2), and when opted in record 'no sandbox'
    in every result, still kill the daemon, contain the fork bomb and record the timeout?"""
    from qicourse.cli import main

    monkeypatch.setenv("QICOURSE_NO_BWRAP", "1")
    with pytest.raises(NoSandboxError, match="pass --no-sandbox to grade anyway"):
        _grade(course, ["z_honest1"])
    assert main(["grade", "fx_ward", "--course-dir", str(course.root), "--student", "z_honest1", "--force"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--no-sandbox" in err and "Traceback" not in err, err
    students = ["a_escaping_daemon", "a_fork_bomb", "a_infinite_loop", "z_honest1", "z_honest2"]
    run = _grade(course, students, allow_no_sandbox=True)
    assert run.sandbox.startswith("no sandbox") and all(r.sandbox == run.sandbox for r in run.results)
    by = {r.student: r for r in run.results}
    if not namespaces_available():  # e.g. not root: the process-group fallback, which a setsid() daemon escapes
        pytest.skip(f"no learner namespaces without bubblewrap here ({run.sandbox})")
    _assert_honest_untouched(run, ["z_honest1", "z_honest2"])
    assert "processes it left running were killed when it ended" in by["a_escaping_daemon"].reasons
    assert any(r.startswith("process limit reached") for r in by["a_fork_bomb"].reasons), by["a_fork_bomb"].reasons
    loop = by["a_infinite_loop"]
    assert loop.status == "incomplete" and any(r.startswith("timeout in") for r in loop.reasons), loop.reasons


def test_a_kill_after_the_last_cell_is_still_reported():
    """If the time limit kills a notebook whose cells have all run (a process it started kept the channel open,
    or a loaded machine), is that recorded rather than silently dropped?"""
    from qicourse.grading.autograde import _assemble

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    ran = {"0": {"outputs": [], "execution_count": 1, "events": []}}
    assert _assemble(nb, [0], {"cells": ran, "done": True}) == []
    reasons = _assemble(nb, [0], {"cells": ran, "done": False, "killed": "notebook time limit"})
    assert reasons == ["killed after its last cell had run (notebook time limit)"]
