"""The educator's pipeline against hostile archives and rosters, crashes, damaged or read-only course
folders and full disks, and the honesty of the LMS grade files. Real nbgrader, real file systems:
full and read-only disks are small tmpfs mounts (root only; skipped with the reason elsewhere)."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest

from qicourse.cli import main
from qicourse.grading import Limits, collect, export, grade, release, setup_course
from qicourse.grading.cohort import hostile, solved
from qicourse.grading.collecting import CollectLimits
from qicourse.grading.course import read_students

pytestmark = pytest.mark.pipeline
FX = Path(__file__).parent / "fixtures" / "grading"
SRC = FX / "solutions" / "fx_ward" / "fx_ward.ipynb"
ROSTER = ("id,first_name,last_name,email,lms_id\n"
          "ada,Ada,Lovelace,ada@example.ac.uk,12345\n"
          "mary,Mary,Seacole,mary@example.ac.uk,23456\n"
          "john,John,Snow,john@example.ac.uk,34567\n")
# What Canvas's gradebook importer treats as "not an assignment" (any header containing one of these
# is skipped): NON_ASSIGNMENT_COLUMN_HEADERS in canvas-lms app/models/gradebook_importer.rb.
CANVAS_SKIPPED = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points", "Final Grade",
                  "Override Score", "Override Grade", "Override Status")
AIM = ("By 31 March 2027 we will reduce inpatient falls on Ward 7 from a median of 8 to 5 per 1,000 "
       "occupied bed days, measured weekly from Datix reports.")


def _cli(args: list[str], capsys) -> tuple[int, str]:
    """Run the `qicourse` entry point; (exit code, stderr)."""
    code = main(args)
    return code, capsys.readouterr().err


def _run(args: list[str]) -> tuple[int, str]:
    """Run `python -m qicourse` in its own process (what an educator sees on the terminal); (exit code, stderr)."""
    done = subprocess.run([sys.executable, "-m", "qicourse", *args], capture_output=True, text=True, timeout=300)
    return done.returncode, done.stderr


def _one_clear_line(code: int, err: str, phrase: str) -> None:
    assert code != 0, err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert phrase in lines[0], err


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    """A small tmpfs mounted at `where` (needs root); skips the test with the reason if mounting fails."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A released fixture course with three learners on its roster (nothing graded)."""
    root = tmp_path_factory.mktemp("hardening")
    (root / "students.csv").write_text(ROSTER)
    release(course_dir=root / "course", solutions_dir=FX / "solutions", exercises_dir=root / "ex")
    return setup_course(course_dir=root / "course", solutions_dir=FX / "solutions", students=root / "students.csv")


@pytest.fixture(scope="module")
def notebook(course) -> bytes:
    return (course.root / "release" / "fx_ward" / "fx_ward.ipynb").read_bytes()


def _moodle(name: str, lms: int, file: str = "fx_ward.ipynb") -> str:
    return f"{name}_{lms}_assignsubmission_file_{file}"


def _clear_submissions(course) -> None:
    shutil.rmtree(course.root / "submitted", ignore_errors=True)


# -- collect: size caps ---------------------------------------------------------------------------

def test_zip_bomb_is_refused_per_entry_and_never_written(course, notebook, tmp_path, monkeypatch):
    """Does an entry expanding past the notebook cap get refused with a note, without ever being written
    in full, while the other learners are collected?"""
    _clear_submissions(course)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_moodle("Ada Lovelace", 12345), notebook)
        zf.writestr(_moodle("Mary Seacole", 23456), b"\0" * (60 << 20))  # 60 MB of zeros
        zf.writestr(_moodle("John Snow", 34567), notebook)
    assert bomb.stat().st_size < 1 << 20  # a small zip...
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))  # where collect extracts
    rep = collect("fx_ward", bomb, course_dir=course.root)
    assert sorted(rep.imported) == ["ada", "john"]
    assert len(rep.too_large) == 1 and "Mary Seacole" in rep.too_large[0] and "20 MB limit per notebook" in rep.too_large[0]
    assert "too large (not imported)" in rep.to_text()
    assert not (course.root / "submitted" / "mary").exists()
    assert list(scratch.iterdir()) == []  # the extraction folder is gone
    big = [p for p in course.root.rglob("*") if p.is_file() and p.stat().st_size > 1 << 20]
    assert big == []


def test_zip_entry_declaring_less_than_it_holds_is_skipped(course, notebook, tmp_path):
    """Is an entry whose header claims 1000 bytes but which inflates to 30 MB stopped (as damaged), the
    others collected?"""
    _clear_submissions(course)
    z = tmp_path / "lie.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_moodle("Ada Lovelace", 12345), notebook)
        zf.writestr(_moodle("Mary Seacole", 23456), b"\0" * (30 << 20))
    data = bytearray(z.read_bytes())
    entry = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)  # Mary's central directory record
    struct.pack_into("<I", data, entry + 24, 1000)  # its uncompressed size (APPNOTE.TXT 4.3.12)
    z.write_bytes(bytes(data))
    rep = collect("fx_ward", z, course_dir=course.root)
    assert list(rep.imported) == ["ada"]
    assert len(rep.skipped) == 1 and "Mary Seacole" in rep.skipped[0] and "damaged" in rep.skipped[0]
    assert not (course.root / "submitted" / "mary").exists()


def test_zip_total_cap_and_caps_from_the_course_config(course, notebook, tmp_path):
    """Is the decompressed total of one zip capped, and are the caps read from nbgrader_config.py?"""
    _clear_submissions(course)
    z = tmp_path / "three.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, lms in (("Ada Lovelace", 12345), ("Mary Seacole", 23456), ("John Snow", 34567)):
            zf.writestr(_moodle(name, lms), notebook)
    rep = collect("fx_ward", z, course_dir=course.root,
                  limits=CollectLimits(max_notebook_bytes=len(notebook), max_zip_bytes=2 * len(notebook) + 10))
    assert sorted(rep.imported) == ["ada", "mary"]
    assert len(rep.too_large) == 1 and "John Snow" in rep.too_large[0] and "past its" in rep.too_large[0]
    config = course.root / "nbgrader_config.py"
    saved = config.read_text()
    try:
        config.write_text(saved + f"c.CollectLimits.max_notebook_bytes = {len(notebook) - 1}\n")
        rep = collect("fx_ward", z, course_dir=course.root)
    finally:
        config.write_text(saved)
    assert rep.imported == {} and len(rep.too_large) == 3


def test_folder_collect_caps_notebooks_and_skips_links(course, notebook, tmp_path):
    """From a folder: is an oversized notebook refused and a symbolic link (to a secret) never copied?"""
    _clear_submissions(course)
    folder = tmp_path / "subs"
    for sid in ("ada", "mary", "john"):
        (folder / sid / "fx_ward").mkdir(parents=True)
    (folder / "ada" / "fx_ward" / "fx_ward.ipynb").write_bytes(notebook)
    with open(folder / "mary" / "fx_ward" / "fx_ward.ipynb", "wb") as fh:
        fh.truncate(21 << 20)  # sparse: 21 MB on paper
    secret = tmp_path / "secret.ipynb"
    secret.write_text("{}")
    (folder / "john" / "fx_ward" / "fx_ward.ipynb").symlink_to(secret)
    rep = collect("fx_ward", folder, course_dir=course.root)
    assert list(rep.imported) == ["ada"]
    assert len(rep.too_large) == 1 and rep.too_large[0].startswith("mary/fx_ward.ipynb: 21.0 MB")
    assert rep.skipped == ["john/fx_ward.ipynb: symbolic link"]


# -- collect: odd entries and ids -----------------------------------------------------------------

def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the file type lives in the high bits
    info.external_attr = mode << 16
    return info


def test_odd_zip_entries_are_skipped_with_notes(course, notebook, tmp_path):
    """Are `..`, absolute, link, device and repeated entries skipped with a note each, nothing written
    outside the course, and the legitimate learners collected?"""
    _clear_submissions(course)
    z = tmp_path / "odd" / "odd.zip"
    z.parent.mkdir()
    with warnings.catch_warnings(), zipfile.ZipFile(z, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the repeated name we write on purpose
        zf.writestr("evil/..", notebook)
        zf.writestr("../x.ipynb", notebook)
        zf.writestr("../../" + _moodle("Ada Lovelace", 12345), notebook)
        zf.writestr("/abs.ipynb", notebook)
        zf.writestr(_entry(_moodle("Mary Seacole", 23456), stat.S_IFLNK | 0o777), "/etc/shadow")
        zf.writestr(_entry("dev.ipynb", stat.S_IFCHR | 0o644), b"")
        zf.writestr(_moodle("Ada Lovelace", 12345), notebook)
        zf.writestr(_moodle("John Snow", 34567), notebook)
        zf.writestr(_moodle("John Snow", 34567), b"a second file under the same name")
    rep = collect("fx_ward", z, course_dir=course.root)
    assert sorted(rep.imported) == ["ada", "john"]
    notes = "\n".join(rep.skipped)
    for entry, why in (("'evil/..'", "path with '..'"), ("'../x.ipynb'", "path with '..'"), ("'/abs.ipynb'", "absolute path"),
                       ("Mary Seacole", "symbolic link"), ("'dev.ipynb'", "device, pipe or socket"),
                       ("John Snow", "entry name repeated in the zip")):
        assert any(entry in n and why in n for n in rep.skipped), (entry, notes)
    assert len(rep.skipped) == 7, notes
    assert (course.root / "submitted" / "john" / "fx_ward" / "fx_ward.ipynb").read_bytes() == notebook  # the first one
    assert not (course.root / "submitted" / "mary").exists()
    for where in (tmp_path, z.parent, course.root.parent, course.root / "submitted"):
        assert not (where / "x.ipynb").exists() and not (where / "abs.ipynb").exists()


@pytest.mark.parametrize("bad", ["../../x", "a/b", "..", "ok id", "éva"])
def test_hostile_roster_ids_are_refused_with_one_clear_line(course, tmp_path, capsys, bad):
    """Is a roster id that is not one safe folder name refused (naming the row), with nothing changed?"""
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER + f'"{bad}",Eve,Hacker,eve@example.com,99\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 5"):
        read_students(roster)
    db = (course.root / "gradebook.db").read_bytes()
    code, err = _cli(["setup", "--course-dir", str(course.root), "--students", str(roster)], capsys)
    _one_clear_line(code, err, f"line 5: student id {bad!r}")
    assert (course.root / "gradebook.db").read_bytes() == db
    assert not (tmp_path / "x").exists() and not (course.root.parent / "x").exists()


# -- damaged, empty and read-only course folders --------------------------------------------------

@pytest.fixture
def copy(course, tmp_path):
    """A throw-away copy of the course, with ada's submission collected."""
    dest = tmp_path / "copy"
    shutil.copytree(course.root, dest, ignore=shutil.ignore_patterns("submitted"))
    setup_course(course_dir=dest, solutions_dir=FX / "solutions")  # its own paths in nbgrader_config.py
    (dest / "submitted" / "ada" / "fx_ward").mkdir(parents=True)
    shutil.copy(course.root / "release" / "fx_ward" / "fx_ward.ipynb", dest / "submitted" / "ada" / "fx_ward")
    return dest


@pytest.mark.parametrize("damage, phrase", [(b"this is not a database at all " * 40, "is damaged"),
                                            (b"", "is empty (0 bytes)")])
def test_damaged_or_empty_gradebook_is_one_clear_line_and_left_alone(copy, tmp_path, capsys, damage, phrase):
    """Does every command refuse a damaged or 0-byte gradebook (never recreating it), in one line?"""
    db = copy / "gradebook.db"
    db.write_bytes(damage)
    z = tmp_path / "one.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(_moodle("Ada Lovelace", 12345), (copy / "release" / "fx_ward" / "fx_ward.ipynb").read_bytes())
    for args in (["setup"], ["collect", "fx_ward", str(z)], ["grade", "fx_ward", "--workers", "1"],
                 ["export", "fx_ward"], ["feedback", "fx_ward"], ["report", "fx_ward"]):
        code, err = _cli([*args, "--course-dir", str(copy)], capsys)
        _one_clear_line(code, err, phrase)
        assert db.read_bytes() == damage, args


def test_missing_assignment_is_one_clear_line(copy, capsys):
    for args in (["collect", "nope", str(copy)], ["grade", "nope"], ["export", "nope"], ["feedback", "nope"], ["report", "nope"]):
        code, err = _cli([*args, "--course-dir", str(copy)], capsys)
        _one_clear_line(code, err, "nope")


def test_read_only_course_folder_is_one_clear_line(copy, tmp_path):
    """On a read-only file system, do collect, grade and export each fail in one line, changing nothing?"""
    with _tmpfs(tmp_path / "ro", "64m") as mnt:
        course = mnt / "course"
        shutil.copytree(copy, course)
        setup_course(course_dir=course, solutions_dir=FX / "solutions")
        z = tmp_path / "one.zip"
        with zipfile.ZipFile(z, "w") as zf:
            zf.writestr(_moodle("Ada Lovelace", 12345), (course / "release" / "fx_ward" / "fx_ward.ipynb").read_bytes())
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        db = (course / "gradebook.db").read_bytes()
        for args, phrase in ((["collect", "fx_ward", str(z)], "read-only file system"),
                             (["grade", "fx_ward", "--workers", "1"], "read-only"),
                             (["export", "fx_ward"], "read-only file system")):
            code, err = _run([*args, "--course-dir", str(course)])
            _one_clear_line(code, err, phrase)
        assert (course / "gradebook.db").read_bytes() == db


# -- crash safety: kill -9 while grading, then resume ---------------------------------------------

GRADE_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from qicourse.grading import Limits, grade
    from qicourse.rubric import load_rubric

    fx = Path(sys.argv[2])
    grade("fx_ward", course_dir=sys.argv[1], workers=1, datasets_dir=fx / "datasets", progress=False,
          limits=Limits(cell_timeout=20, notebook_timeout=60, memory_bytes=512 << 20, kill_grace=2),
          rubric_lookup=lambda gid: load_rubric("smart_aim") if gid == "writeup_aim" else None)
""")
SLEEP = 2.5
LIMITS = Limits(cell_timeout=20, notebook_timeout=60, memory_bytes=512 << 20, kill_grace=2)


def _rubric_lookup(grade_id):
    from qicourse.rubric import load_rubric

    return load_rubric("smart_aim") if grade_id == "writeup_aim" else None


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A cohort whose grading was killed with SIGKILL part-way, then graded again."""
    root = tmp_path_factory.mktemp("crash")
    course_dir = root / "course"
    release(course_dir=course_dir, solutions_dir=FX / "solutions", exercises_dir=root / "ex")
    course = setup_course(course_dir=course_dir, solutions_dir=FX / "solutions")
    rel = course_dir / "release" / "fx_ward" / "fx_ward.ipynb"
    src_nb, rel_nb = nbformat.read(SRC, as_version=4), nbformat.read(rel, as_version=4)
    slow = solved(src_nb, rel_nb, writeup=AIM)
    first = next(i for i, c in enumerate(slow.cells) if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    slow.cells.insert(first + 1, nbformat.v4.new_code_cell(f"import time\ntime.sleep({SLEEP})"))
    dies = hostile("kernel_death", src_nb, rel_nb)
    for cell in dies.cells:  # ... after writing a good aim (the reported case: its provisional mark was its grade)
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "writeup_aim":
            cell.source = AIM
    cohort = {  # graded in this (alphabetical) order
        "a1_full": solved(src_nb, rel_nb, writeup=AIM),
        "a2_flagged": hostile("deleted_test", src_nb, rel_nb),
        "b1_slow": slow, "b2_slow": slow,
        "c1_kernel_death": dies,
        "c2_invalid_json": hostile("invalid_json", src_nb, rel_nb),
    }
    subs = root / "subs"
    for student, nb in cohort.items():
        (subs / student / "fx_ward").mkdir(parents=True)
        path = subs / student / "fx_ward" / "fx_ward.ipynb"
        path.write_text(nb if isinstance(nb, str) else nbformat.writes(nb))
    collect("fx_ward", subs, course_dir=course_dir)
    results = course_dir / "qicourse" / "results" / "fx_ward"
    proc = subprocess.Popen([sys.executable, "-c", GRADE_SCRIPT, str(course_dir), str(FX)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if results.is_dir() and len(list(results.glob("*.json"))) >= 2:
            break
        time.sleep(0.02)
    finished_at_kill = sorted(p.stem for p in results.glob("*.json")) if results.is_dir() else []
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9, workers and all
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    before = {s: (results / f"{s}.json").read_bytes() for s in finished_at_kill}
    stamps = {s: (course_dir / "autograded" / s / "fx_ward" / "fx_ward.ipynb").stat().st_mtime_ns for s in finished_at_kill}
    shown_after_kill = {r["student_id"]: r["status"] for r in csv.DictReader(open(export("fx_ward", course_dir=course_dir, out_dir=root / "after-kill")["fx_ward scores"]))}
    run = grade("fx_ward", course_dir=course_dir, workers=1, datasets_dir=FX / "datasets", progress=False,
                limits=LIMITS, rubric_lookup=_rubric_lookup)
    return {"course": course, "root": root, "finished": finished_at_kill, "before": before, "stamps": stamps,
            "shown": shown_after_kill, "run": run, "results": results}


def test_kill_9_during_grading_then_rerun_resumes(crashed):
    """After SIGKILL mid-run, are the learners finished before it exported as graded, skipped by the
    re-run (not graded again), and everyone else graded?"""
    finished = crashed["finished"]
    assert finished[:2] == ["a1_full", "a2_flagged"] and "b2_slow" not in finished, finished
    assert len(crashed["shown"]) == 6  # every collected learner is listed, graded or not
    for s, status in crashed["shown"].items():
        assert (status != "not graded") == (s in finished), crashed["shown"]
    run = crashed["run"]
    assert sorted(run.skipped) == finished
    assert sorted(r.student for r in run.results) == sorted(set(crashed["shown"]) - set(finished))
    course = crashed["course"]
    for s in finished:  # untouched: neither the record nor nbgrader's graded notebook was rewritten
        assert (crashed["results"] / f"{s}.json").read_bytes() == crashed["before"][s]
        assert (course.root / "autograded" / s / "fx_ward" / "fx_ward.ipynb").stat().st_mtime_ns == crashed["stamps"][s]
    statuses = {r["student_id"]: r["status"] for r in csv.DictReader(open(export("fx_ward", course_dir=course.root, out_dir=crashed["root"] / "x")["fx_ward scores"]))}
    assert statuses == {"a1_full": "ok", "a2_flagged": "flagged", "b1_slow": "ok", "b2_slow": "ok",
                        "c1_kernel_death": "incomplete", "c2_invalid_json": "error"}
    assert not list(crashed["results"].glob(".*.tmp"))  # no temporary file left over by the kill


# -- LMS files: flagged learners and provisional write-up marks -----------------------------------

def _read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_lms_files_hold_back_flagged_learners_and_unconfirmed_writeup_marks(crashed, tmp_path, capsys):
    """Do the Moodle/Canvas files leave provisional write-up marks out of the totals (unless asked), give
    flagged, incomplete and ungradable learners no number (with why), and list the marks awaiting confirmation?"""
    course = crashed["course"]
    code = main(["export", "fx_ward", "--course-dir", str(course.root), "--out", str(tmp_path / "a")])
    out = capsys.readouterr().out
    assert code == 0
    scores = {r["student_id"]: r for r in csv.DictReader(open(tmp_path / "a" / "fx_ward_scores.csv"))}
    full = scores["a1_full"]
    aim = float(full["writeup_aim"])
    assert aim > 0 and full["provisional"] == "writeup_aim"
    canvas = _read(tmp_path / "a" / "fx_ward_canvas_grades.csv")
    head = canvas[0]
    assert head[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "fx_ward"]
    note_cols = head[6:]
    assert note_cols and all(any(k in h for k in CANVAS_SKIPPED) for h in note_cols)  # Canvas imports none of them
    cv = {r[2]: dict(zip(head, r)) for r in canvas[2:]}
    note = head[6]
    assert float(cv["a1_full"]["fx_ward"]) == pytest.approx(float(full["score"]) - aim)
    assert "provisional write-up mark(s) writeup_aim" in cv["a1_full"][note]
    for student, status, why in (("a2_flagged", "flagged", "deleted locked cell"), ("c1_kernel_death", "incomplete", "kernel died"),
                                 ("c2_invalid_json", "error", "invalid JSON")):
        assert cv[student]["fx_ward"] == "", cv[student]
        assert f"no grade ({status}: " in cv[student][note] and why in cv[student][note]
    assert scores["a2_flagged"]["score"] != ""  # the per-question file keeps everything
    moodle = _read(tmp_path / "a" / "fx_ward_moodle_grades.csv")
    md = {r[1]: r for r in moodle[1:]}
    assert float(md["a1_full"][2]) == pytest.approx(float(full["score"]) - aim)
    assert md["a2_flagged"][2] == "" and "flagged" in md["a2_flagged"][3]
    awaiting = list(csv.DictReader(open(tmp_path / "a" / "fx_ward_awaiting_confirmation.csv")))
    provisional = sorted(s for s, r in scores.items() if r["provisional"])
    assert sorted(r["student_id"] for r in awaiting) == provisional and "a1_full" in provisional
    mine = next(r for r in awaiting if r["student_id"] == "a1_full")
    assert mine["writeup"] == "writeup_aim" and float(mine["provisional_score"]) == aim and float(mine["max_score"]) == 3
    assert f"{len(awaiting)} provisional write-up mark(s) awaiting your confirmation" in out
    assert f"a1_full (fx_ward): writeup_aim {aim:g}/3" in out
    # the educator asks for the provisional marks and the flagged learners' scores
    assert main(["export", "fx_ward", "--course-dir", str(course.root), "--out", str(tmp_path / "b"),
                 "--include-provisional", "--include-flagged"]) == 0
    canvas = _read(tmp_path / "b" / "fx_ward_canvas_grades.csv")
    cv = {r[2]: dict(zip(canvas[0], r)) for r in canvas[2:]}
    assert float(cv["a1_full"]["fx_ward"]) == pytest.approx(float(full["score"]))
    assert "includes provisional (unconfirmed) write-up mark(s): writeup_aim" in cv["a1_full"][note]
    assert cv["a2_flagged"]["fx_ward"] != "" and cv["a2_flagged"][note].startswith("flagged: ")
    assert cv["c2_invalid_json"]["fx_ward"] == ""  # nothing to give
    # a learner whose kernel died gets nothing from their unconfirmed write-up mark alone
    dead = scores["c1_kernel_death"]
    assert dead["status"] == "incomplete" and dead["provisional"] == "writeup_aim" and float(dead["writeup_aim"]) > 0
    assert main(["export", "fx_ward", "--course-dir", str(course.root), "--out", str(tmp_path / "d"), "--include-flagged"]) == 0
    canvas = _read(tmp_path / "d" / "fx_ward_canvas_grades.csv")
    cv = {r[2]: dict(zip(canvas[0], r)) for r in canvas[2:]}
    assert float(cv["c1_kernel_death"]["fx_ward"]) == pytest.approx(float(dead["score"]) - float(dead["writeup_aim"])) == 0
    assert "provisional write-up mark(s) writeup_aim" in cv["c1_kernel_death"][note]
    # once the educator confirms the mark in formgrader it counts, and is no longer awaited
    with course.gradebook() as gb:
        g = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", "a1_full")
        g.manual_score, g.needs_manual_grade = 2.0, False
        gb.db.commit()
    try:
        files = export("fx_ward", course_dir=course.root, out_dir=tmp_path / "c")
    finally:
        with course.gradebook() as gb:
            g = gb.find_grade("writeup_aim", "fx_ward", "fx_ward", "a1_full")
            g.manual_score, g.needs_manual_grade = None, True
            gb.db.commit()
    canvas = _read(files["fx_ward canvas"])
    cv = {r[2]: dict(zip(canvas[0], r)) for r in canvas[2:]}
    assert float(cv["a1_full"]["fx_ward"]) == pytest.approx(float(full["score"]) - aim + 2.0)
    assert all(m["student_id"] != "a1_full" for m in files.awaiting)


# -- full disk ------------------------------------------------------------------------------------

def test_full_disk_during_export_keeps_the_previous_files(crashed, tmp_path, capsys):
    """When the disk fills during an export, is it one clear line, with every previous file intact
    (no 0-byte CSV, no temporary file left)?"""
    course = crashed["course"]
    with _tmpfs(tmp_path / "small", "512k") as mnt:
        assert main(["export", "fx_ward", "--course-dir", str(course.root), "--out", str(mnt)]) == 0
        capsys.readouterr()
        before = {p.name: p.read_bytes() for p in mnt.iterdir()}
        assert len(before) == 4 and all(before.values())
        with open(mnt / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):  # fill the disk up
            while True:
                fh.write(b"\0" * 4096)
        code, err = _cli(["export", "fx_ward", "--course-dir", str(course.root), "--out", str(mnt),
                          "--include-provisional"], capsys)
        _one_clear_line(code, err, "the disk is full")
        after = {p.name: p.read_bytes() for p in mnt.iterdir() if p.name != "filler"}
        assert after == before


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    """Does an error in the middle of writing leave the previous file whole and no temporary file?"""
    from qicourse.grading.safeio import atomic_open

    path = tmp_path / "scores.csv"
    path.write_text("old,complete\n")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as fh:
            fh.write("new,half")
            raise RuntimeError("the disk went away")
    assert path.read_text() == "old,complete\n" and [p.name for p in tmp_path.iterdir()] == ["scores.csv"]
    with atomic_open(path) as fh:
        fh.write("new,complete\n")
    assert path.read_text() == "new,complete\n" and [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_failed_feedback_keeps_the_previous_page(crashed):
    """When a learner's new feedback page cannot be made, is their previous page left whole (and the others renewed)?"""
    from qicourse.grading import feedback

    course = crashed["course"]
    first = feedback("fx_ward", course_dir=course.root, workers=1, progress=False)
    assert not first.failures
    pages = {f: f.read_bytes() for f in first}
    page = next(f for f in pages if f.parent.parent.name == "a1_full")
    graded = course.root / "autograded" / "a1_full" / "fx_ward" / "fx_ward.ipynb"
    saved = graded.read_bytes()
    graded.chmod(0o644)
    try:
        graded.write_text("{ not a notebook")
        again = feedback("fx_ward", course_dir=course.root, workers=1, progress=False)
    finally:
        graded.write_bytes(saved)
    assert list(again.failures) == ["a1_full"]
    assert page.read_bytes() == pages[page]
    assert sorted(p.name for p in page.parent.parent.iterdir()) == ["fx_ward"]  # nothing set aside is left over
    assert {f: f.read_bytes() for f in again} == {f: b for f, b in pages.items() if f != page}
