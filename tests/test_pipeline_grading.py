"""The whole grading pipeline on a fabricated cohort of the fixture assignment (one graded course
shared by the module), plus parity with plain `nbgrader autograde` and every real assignment."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from qicourse.grading import Limits, check_notebook, collect, export, feedback, grade, release, report, setup_course
from qicourse.grading.cohort import fabricate, solved
from qicourse.paths import repo_root

pytestmark = pytest.mark.pipeline
FX = Path(__file__).parent / "fixtures" / "grading"
SRC = FX / "solutions" / "fx_ward" / "fx_ward.ipynb"
LIMITS = Limits(cell_timeout=3, notebook_timeout=30, memory_bytes=512 << 20, kill_grace=2)
ESCAPE = "/tmp/qicourse-test-escape.txt"

# kind -> (status, expected score out of 5 auto + 3 write-up, a phrase in the reasons)
EXPECTED = {
    "infinite_loop": ("incomplete", 0, "timeout in cell"),  # stopped from outside: the tests after it never run
    "kernel_death": ("incomplete", 0, "kernel died"),
    "memory_bomb": ("flagged", 5, "memory limit"),
    "huge_output": ("flagged", 5, "output too large"),
    "invalid_json": ("error", None, "invalid JSON"),
    "wrong_nbformat": ("error", None, "format 99"),
    "deleted_test": ("flagged", 5, "deleted locked cell 'falls_rate_test' put back"),
    "renamed_test": ("flagged", 5, "renamed"),
    "edited_test": ("flagged", 5, "edited locked cell 'falls_rate_test' restored"),
    "deleted_setup": ("flagged", 5, "deleted locked cell 'setup' put back"),
    "other_assignment": ("error", None, "another assignment"),
    "read_secrets": ("flagged", 5, "tried to use files outside its folder"),
    "monkeypatch": ("flagged", 0, "pandas.testing.assert_series_equal"),
    "full": ("ok", 5, ""),
    "blank": ("ok", 0, ""),
    "error": ("ok", 3, ""),  # syntax error in falls_rate: loses its 2 points only
}


def _rubric_lookup(grade_id):
    from qicourse.rubric import load_rubric

    return load_rubric("smart_aim") if grade_id == "writeup_aim" else None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    course_dir = root / "course"
    release(course_dir=course_dir, solutions_dir=FX / "solutions", exercises_dir=root / "ex")
    course = setup_course(course_dir=course_dir, solutions_dir=FX / "solutions")
    rel = course_dir / "release" / "fx_ward" / "fx_ward.ipynb"
    kinds = fabricate(SRC, rel, root / "subs", "fx_ward", n=16,
                      secrets=[str(course_dir / "gradebook.db"), str(SRC)], write_to=str(course_dir / "pwned.txt"))
    src_nb, rel_nb = nbformat.read(SRC, as_version=4), nbformat.read(rel, as_version=4)
    partly = {"p_falls_only": ({"falls_rate"}, 2), "p_median_rates": ({"baseline_median", "rates"}, 3)}
    for student, (keep, _) in partly.items():
        (root / "subs" / student / "fx_ward").mkdir(parents=True)
        nbformat.write(solved(src_nb, rel_nb, keep=keep, writeup="Reduce falls."), str(root / "subs" / student / "fx_ward" / "fx_ward.ipynb"))
    writeup = ("By 31 March 2027 we will reduce inpatient falls on Ward 7 from a median of 8 to 5 per 1,000 "
               "occupied bed days, measured weekly from Datix reports.")
    full = next(s for s, k in kinds.items() if k == "full")
    nb = nbformat.read(root / "subs" / full / "fx_ward" / "fx_ward.ipynb", as_version=4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "writeup_aim":
            c.source = writeup
    nbformat.write(nb, str(root / "subs" / full / "fx_ward" / "fx_ward.ipynb"))
    collect("fx_ward", root / "subs", course_dir=course_dir)
    if os.path.exists(ESCAPE):
        os.remove(ESCAPE)
    run = grade("fx_ward", course_dir=course_dir, workers=2, limits=LIMITS, datasets_dir=FX / "datasets",
                rubric_lookup=_rubric_lookup, progress=False)
    return {"root": root, "course": course, "kinds": kinds, "partly": partly, "run": run, "full": full}


def test_every_submission_gets_its_expected_outcome(graded):
    """Full marks, blanks zero without errors, errors and hostile cases each with their recorded reason?"""
    by_student = {r.student: r for r in graded["run"].results}
    assert len(by_student) == len(graded["kinds"]) + len(graded["partly"])
    for student, kind in graded["kinds"].items():
        status, auto, phrase = EXPECTED[kind]
        r = by_student[student]
        assert r.status == status, (student, r.status, r.reasons)
        assert phrase in "; ".join(r.reasons), (student, r.reasons)
        if auto is None:
            assert r.score is None and r.max_score == 8
        else:
            auto_score = sum(q["score"] or 0 for q in r.questions if q["grade_id"] != "writeup_aim")
            assert auto_score == auto, (student, r.questions, r.reasons)
    for student, (_, expected) in graded["partly"].items():
        r = by_student[student]
        assert r.status == "ok"
        assert sum(q["score"] or 0 for q in r.questions if q["grade_id"] != "writeup_aim") == expected


def test_kernel_death_never_counts_tests_as_passed(graded):
    """After os._exit, are later test cells failed with NotExecuted rather than passed?"""
    student = next(s for s, k in graded["kinds"].items() if k == "kernel_death")
    nb = nbformat.read(graded["course"].root / "autograded" / student / "fx_ward" / "fx_ward.ipynb", as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert tests and all(any(o.get("ename") == "NotExecuted" for o in c.outputs) for c in tests)


def test_sandbox_hides_solutions_gradebook_and_blocks_writes(graded):
    """Can learner code read the gradebook or the source notebook, or write outside its folder?"""
    if graded["run"].sandbox != "bwrap":
        pytest.skip("bubblewrap is not available here: file-system isolation is not enforced (rlimits + temp dir only)")
    student = next(s for s, k in graded["kinds"].items() if k == "read_secrets")
    nb = nbformat.read(graded["course"].root / "autograded" / student / "fx_ward" / "fx_ward.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "FileNotFoundError" in text and "SQLite format" not in text and "BEGIN HIDDEN" not in text
    assert "write refused" in text and not (graded["course"].root / "pwned.txt").exists()


def test_regrade_is_idempotent_and_keeps_educator_marks(graded):
    """Is a second run a no-op, and does --force keep an educator's manual mark and restore provisional ones?"""
    course, full = graded["course"], graded["full"]
    again = grade("fx_ward", course_dir=course.root, workers=1, limits=LIMITS, datasets_dir=FX / "datasets",
                  rubric_lookup=_rubric_lookup, progress=False)
    assert again.results == [] and len(again.skipped) == len(graded["run"].results)
    with course.gradebook() as gb:
        g = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", full)
        assert g.auto_score is not None and g.auto_score > 0 and g.needs_manual_grade  # provisional
        other = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", "p_falls_only")
        other.manual_score = 1.5
        other.needs_manual_grade = False
        gb.db.commit()
    grade("fx_ward", course_dir=course.root, workers=1, limits=LIMITS, datasets_dir=FX / "datasets", force=True,
          students=["p_falls_only", full], rubric_lookup=_rubric_lookup, progress=False)
    with course.gradebook() as gb:
        assert gb.find_grade("writeup_aim", "fx_ward", "fx_ward", "p_falls_only").manual_score == 1.5
        g = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", full)
        assert g.auto_score is not None and g.needs_manual_grade and g.manual_score is None
        assert "Provisional" in gb.find_comment("writeup_aim", "fx_ward", "fx_ward", full).auto_comment


def test_export_feedback_and_report(graded, tmp_path):
    """Do exports carry per-question scores and status (no plain zero for failures), and feedback/report exist?"""
    out = export("fx_ward", course_dir=graded["course"].root, out_dir=tmp_path)
    rows = {r["student_id"]: r for r in csv.DictReader(open(out["fx_ward scores"]))}
    bad = next(s for s, k in graded["kinds"].items() if k == "invalid_json")
    assert rows[bad]["score"] == "" and rows[bad]["status"] == "error" and "invalid JSON" in rows[bad]["reasons"]
    loop = next(s for s, k in graded["kinds"].items() if k == "infinite_loop")
    assert rows[loop]["status"] == "incomplete" and "timeout" in rows[loop]["reasons"]
    assert float(rows[graded["full"]]["falls_rate_test"]) == 2.0 and "writeup_aim" in rows[graded["full"]]["provisional"]
    moodle = list(csv.reader(open(out["fx_ward moodle"])))
    assert moodle[0][:3] == ["Email address", "ID number", "fx_ward"]
    canvas = list(csv.reader(open(out["fx_ward canvas"])))
    assert canvas[1][0] == "Points Possible" and canvas[0][5] == "fx_ward"
    course, full = graded["course"], graded["full"]
    files = feedback("fx_ward", course_dir=course.root)
    full_fb = next(f for f in files if f.parent.parent.name == full).read_text()
    assert "Write-up feedback" in full_fb and "Provisional" in full_fb and "Grading note" not in full_fb
    assert "falls_rate_test" in full_fb and "HIDDEN TESTS" not in full_fb  # the test cells, without their hidden part
    assert "Write-up 'writeup_aim': provisional" in full_fb and "confirmed by your educator</h3>" not in full_fb
    with course.gradebook() as gb:  # an educator confirms the write-up mark in formgrader
        g = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", full)
        g.manual_score, g.needs_manual_grade = 2.5, False
        gb.db.commit()
    try:
        files = feedback("fx_ward", course_dir=course.root)
    finally:
        with course.gradebook() as gb:
            g = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", full)
            g.manual_score, g.needs_manual_grade = None, True
            gb.db.commit()
    full_fb = next(f for f in files if f.parent.parent.name == full).read_text()
    assert "Write-up 'writeup_aim': 2.5/3, confirmed by your educator</h3>" in full_fb
    assert "Write-up 'writeup_aim': provisional" not in full_fb
    loop_fb = next(f for f in files if f.parent.parent.name == loop).read_text()
    assert "Grading note (qicourse): incomplete" in loop_fb and "timeout in cell" in loop_fb
    page = report("fx_ward", course_dir=graded["course"].root, out_dir=tmp_path).read_text()
    assert "data:image/png;base64" in page and "invalid JSON" in page and "falls_rate_test" in page


def test_feedback_in_parallel_matches_one_worker_and_survives_a_bad_learner(graded):
    """Do 2 feedback workers write byte-identical pages to 1, with a progress line, and does one learner's
    broken graded notebook give a failure for that learner only?"""
    import io

    course = graded["course"]

    def run(workers):
        out = io.StringIO()
        files = feedback("fx_ward", course_dir=course.root, workers=workers, stream=out)
        return files, {f: f.read_bytes() for f in files}, out.getvalue()

    one, pages_one, _ = run(1)
    two, pages_two, progress = run(2)
    n = len(graded["kinds"]) + len(graded["partly"]) - 3  # the three ungradable submissions get no page
    assert len(pages_one) == n and not one.failures and not two.failures
    assert pages_two == pages_one
    assert f"feedback: {n}/{n} done, 0 with problems, ~0 s left" in progress
    bad = course.root / "autograded" / graded["full"] / "fx_ward" / "fx_ward.ipynb"
    saved = bad.read_bytes()
    try:
        bad.write_text("{ not a notebook")
        broken, pages, progress = run(2)
    finally:
        bad.write_bytes(saved)
    assert list(broken.failures) == [graded["full"]] and "Notebook does not appear to be JSON" in broken.failures[graded["full"]]
    assert pages == {f: b for f, b in pages_one.items() if f.parent.parent.name != graded["full"]}
    assert f"feedback: {n}/{n} done, 1 with problems" in progress


def test_scores_match_plain_nbgrader(graded, tmp_path):
    """Does plain `nbgrader autograde` give the same score per cell on ordinary submissions?"""
    course = graded["course"]
    copy = tmp_path / "plain"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("autograded", "feedback", "gradebook.db", "qicourse"))
    cfg = copy / "nbgrader_config.py"
    cfg.write_text(cfg.read_text().replace(str(course.root), str(copy)))
    kinds = {s: k for s, k in graded["kinds"].items() if k in ("full", "blank", "error")} | {s: "partly" for s in graded["partly"]}
    for s in os.listdir(copy / "submitted"):
        if s not in kinds:
            shutil.rmtree(copy / "submitted" / s)
    env = dict(os.environ, QICOURSE_DATA=str(FX / "datasets"), PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "generate_assignment", "fx_ward", "--force"], cwd=copy, env=env, capture_output=True, check=True)
    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", "fx_ward"], cwd=copy, env=env, capture_output=True)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{copy / 'gradebook.db'}") as plain, course.gradebook() as ours:
        for s in kinds:
            for gid in ("falls_rate_test", "baseline_median_test", "rates_test"):
                assert plain.find_grade(gid, "fx_ward", "fx_ward", s).score == ours.find_grade(gid, "fx_ward", "fx_ward", s).score, (s, gid)


def test_check_gives_learner_feedback_without_test_code(graded, tmp_path):
    """Does check pass a solved notebook, fail a blank one with messages but no hidden test code?"""
    full = graded["course"].root / "submitted" / graded["full"] / "fx_ward" / "fx_ward.ipynb"
    ok = check_notebook(full, "fx_ward", solutions_dir=FX / "solutions", datasets_dir=FX / "datasets",
                        rubric_lookup=_rubric_lookup)
    assert ok.all_passed and ok.score == 5 and ok.max_score == 5 and "writeup_aim" in ok.writeups
    for shown in (ok.to_text(), ok.to_html()):  # the learner sees the rubric table, marked as provisional
        assert "provisional" in shown and "Numeric target" in shown
    blank = graded["course"].root / "release" / "fx_ward" / "fx_ward.ipynb"
    bad = check_notebook(blank, "fx_ward", solutions_dir=FX / "solutions", datasets_dir=FX / "datasets")
    assert not bad.all_passed and bad.score == 0
    text = bad.to_text() + bad.to_html()
    assert "not answered yet" in text and "assert_series_equal" not in text and "falls_rate(5, 2500)" not in text


def _assignments():
    sol = repo_root() / "solutions"
    return sorted(p.name for p in sol.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) if sol.is_dir() else []


def test_every_course_assignment_grades_solution_full_and_blank_zero(tmp_path):
    """For every assignment in solutions/: does its solution earn full marks and its blank zero, without errors?"""
    assignments = _assignments()
    if not assignments:
        pytest.skip("solutions/ has no assignments yet")
    course_dir = tmp_path / "course"
    release(assignments, course_dir=course_dir, exercises_dir=tmp_path / "ex")
    for a in assignments:
        src = next((repo_root() / "solutions" / a).glob("*.ipynb"))
        rel = course_dir / "release" / a / src.name
        for student, nb in (("solved", solved(nbformat.read(src, as_version=4), nbformat.read(rel, as_version=4))),
                            ("blank", nbformat.read(rel, as_version=4))):
            (course_dir / "submitted" / student / a).mkdir(parents=True)
            nbformat.write(nb, str(course_dir / "submitted" / student / a / src.name))
        run = grade(a, course_dir=course_dir, workers=2, progress=False, mark_writeups=a == "m8_capstone")
        res = {r.student: r for r in run.results}
        if a == "m8_capstone":  # the report is marked with facts from the learner's own chart data
            facts = res["solved"].facts["capstone"]
            assert facts["chart_signals"] == _solution_chart_signals(), facts
            from qicourse.grading.course import open_course
            from qicourse.grading.writeups import load_writeups

            record = load_writeups(open_course(course_dir), a, "solved")["capstone_report"]
            assert record["facts"] == facts and record["points"] == record["max_points"]
        auto = lambda r: [q for q in r.questions if not q["needs_manual_grade"]]  # noqa: E731
        assert res["solved"].status == "ok", (a, res["solved"].reasons)
        assert all(q["score"] == q["max_score"] for q in auto(res["solved"])), (a, auto(res["solved"]))
        assert res["blank"].status == "ok", (a, res["blank"].reasons)
        assert all(q["score"] == 0 for q in auto(res["blank"])), (a, auto(res["blank"]))


def _solution_chart_signals() -> list[str]:
    """What `qicourse.charts.qic` finds on the capstone's p chart (frozen on the baseline), in the rubric's names."""
    import pandas as pd

    from qicourse.charts import qic
    from qicourse.data import load, truth

    s = load("sepsis")
    week = s["trigger_time"].dt.to_period("W-SUN").dt.start_time
    n = s.groupby(week).size()
    within = (s["minutes_to_antibiotics"] <= 60).groupby(week).sum()
    k = int((n.index < pd.Timestamp(truth("sepsis")["pdsa_cycles"][0]["date"])).sum())
    summary = qic(within.to_numpy(), n.to_numpy(), chart="p", freeze=k).summary
    names = {"anhoej_long_run": "shift", "anhoej_few_crossings": "crossings"}
    found = {names[r] for r in summary["runs_rules"]} | ({"outside_limits"} if summary["n_outside_limits"] else set())
    return sorted(found)


def test_formgrader_sees_every_graded_submission(graded):
    """Does nbgrader's own API (what formgrader calls) list every submission we graded, with its score?"""
    from qicourse.grading.autograde import load_results

    api = graded["course"].api()
    subs = {s["student"]: s for s in api.get_submissions("fx_ward")}
    ours = load_results(graded["course"], "fx_ward")  # as saved by the latest run (a regrade may follow the first)
    assert set(subs) == set(ours) == {r.student for r in graded["run"].results}
    for student, r in ours.items():
        if r["status"] != "error":
            assert subs[student]["autograded"] and subs[student]["score"] == pytest.approx(r["score"])
    assert api.get_autograded_students("fx_ward") >= {s for s, r in ours.items() if r["status"] != "error"}


def test_check_cli_exit_codes(tmp_path):
    """Does `qicourse check` exit 0 on a solved course notebook and 1 on its blank exercise?"""
    from qicourse.cli import main

    assignments = _assignments()
    if not assignments:
        pytest.skip("solutions/ has no assignments yet")
    a = assignments[0]
    src = next((repo_root() / "solutions" / a).glob("*.ipynb"))
    course_dir = tmp_path / "c"
    release([a], course_dir=course_dir, exercises_dir=tmp_path / "ex")
    blank = tmp_path / "ex" / a / src.name
    done = tmp_path / "solved" / a / src.name
    done.parent.mkdir(parents=True)
    nbformat.write(solved(nbformat.read(src, as_version=4), nbformat.read(blank, as_version=4)), str(done))
    assert main(["check", str(done), "--html", str(tmp_path / "ok.html")]) == 0
    assert main(["check", str(blank), "--html", str(tmp_path / "bad.html")]) == 1
    assert "FAIL" not in (tmp_path / "ok.html").read_text() and "fail" in (tmp_path / "bad.html").read_text()


def test_without_fork_nbgrader_kernels_give_the_same_scores(graded, tmp_path, monkeypatch):
    """Where os.fork is missing (Windows), does grading fall back to nbgrader's kernels with the same scores?"""
    course = graded["course"]
    picks = {s: k for s, k in graded["kinds"].items() if k in ("full", "blank", "error", "kernel_death")}
    copy = tmp_path / "course"
    shutil.copytree(course.root, copy, ignore=shutil.ignore_patterns("autograded", "feedback", "qicourse", "exports", "reports"))
    setup_course(course_dir=copy, solutions_dir=FX / "solutions")
    monkeypatch.setenv("QICOURSE_NO_FORK", "1")
    run = grade("fx_ward", course_dir=copy, students=list(picks), force=True, limits=LIMITS,
                datasets_dir=FX / "datasets", progress=False, mark_writeups=False, allow_no_sandbox=True)
    for r in run.results:
        status, auto, _ = EXPECTED[picks[r.student]]
        assert r.sandbox.startswith("kernel") and r.status == status, (r.student, r.status, r.reasons)
        assert sum(q["score"] or 0 for q in r.questions if q["grade_id"] != "writeup_aim") == auto
