"""Import submissions into `submitted/<student>/<assignment>/` from a folder or an LMS bulk download.

Moodle names files `Full Name_12345_assignsubmission_file_x.ipynb` (12345: the participant id),
Canvas `lastfirst_12345_67890_x.ipynb` (12345: the Canvas user id; a `late` marker may follow the
name). Both are matched to students through the student list (LMS id, then name). Unknown
students, duplicates and non-notebook files are reported, never silently dropped.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from qicourse.grading.course import open_course

MOODLE = re.compile(r"^(?P<name>.+?)_(?P<lms>\d+)_assignsubmission_file_(?P<file>.+)$")
CANVAS = re.compile(r"^(?P<name>[a-z0-9]+?)(?:_late)?_(?P<lms>\d+)_(?P<sub>\d+)_(?P<file>.+)$")


@dataclass
class CollectReport:
    assignment: str
    imported: dict[str, str] = field(default_factory=dict)
    """student id -> file imported"""
    unknown_students: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    not_notebooks: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        lines = [f"collected {len(self.imported)} submission(s) of {self.assignment}"]
        for label, items in (("unknown student (not imported)", self.unknown_students),
                             ("duplicate (not imported; first file kept)", self.duplicates),
                             ("not a notebook (not imported)", self.not_notebooks)):
            for item in items:
                lines.append(f"  {label}: {item}")
        return "\n".join(lines)


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _student_index(course) -> tuple[dict, dict]:
    by_lms, by_name = {}, {}
    with course.gradebook() as gb:
        for s in gb.students:
            if s.lms_user_id:
                by_lms[str(s.lms_user_id)] = s.id
            first, last = s.first_name or "", s.last_name or ""
            for key in (first + last, last + first, s.id):
                if key:
                    by_name[_norm(key)] = s.id
    return by_lms, by_name


def _lms_match(filename: str, by_lms: dict, by_name: dict) -> tuple[str | None, str]:
    """(student id or None, how it was identified) for one file of an LMS download."""
    for pattern in (MOODLE, CANVAS):
        m = pattern.match(filename)
        if m:
            sid = by_lms.get(m["lms"]) or by_name.get(_norm(m["name"]))
            return sid, f"{m['name']} (LMS id {m['lms']})"
    return None, filename


def collect(assignment: str, source: str | Path, *, course_dir: str | Path | None = None,
            timestamp: str | None = None) -> CollectReport:
    """Copy every learner's notebook into the course; report everything not imported."""
    course = open_course(course_dir)
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"No submissions at {source}")
    report = CollectReport(assignment)
    stamp = timestamp or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    by_lms, by_name = _student_index(course)
    known = set(by_name.values()) | set(by_lms.values())
    found: list[tuple[str | None, str, Path]] = []  # (student, label, file)
    tmp = None
    try:
        if source.is_file() and zipfile.is_zipfile(source):
            tmp = Path(tempfile.mkdtemp(prefix="qicourse-collect-"))
            with zipfile.ZipFile(source) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    name = Path(info.filename).name
                    parts = Path(info.filename).parts
                    label_name = name
                    if len(parts) > 1 and MOODLE.match(parts[-2] + "_x"):  # newer Moodle: a folder per learner
                        label_name = f"{parts[-2]}_{name}"
                    target = tmp / str(len(found)) / name
                    target.parent.mkdir(parents=True)
                    with zf.open(info) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst)
                    sid, label = _lms_match(label_name, by_lms, by_name)
                    found.append((sid, label if sid is None else info.filename, target))
        elif source.is_dir():
            for sdir in sorted(p for p in source.iterdir() if p.is_dir()):
                adir = sdir / assignment
                if not adir.is_dir():
                    report.not_notebooks.append(f"{sdir.name}/ has no {assignment}/ folder")
                    continue
                for f in sorted(p for p in adir.rglob("*") if p.is_file()):
                    sid = sdir.name if (not known or sdir.name in known) else None
                    found.append((sid, f"{sdir.name}/{f.relative_to(adir)}", f))
        else:
            raise ValueError(f"{source} is neither a folder nor a zip file")
        seen: set[str] = set()
        release_names = {p.name for p in course.path("release", assignment=assignment).glob("*.ipynb")}
        for sid, label, f in found:
            if f.suffix != ".ipynb" or f.name.startswith("."):
                report.not_notebooks.append(label)
                continue
            if sid is None:
                report.unknown_students.append(label)
                continue
            if sid in seen:
                report.duplicates.append(f"{sid}: {label}")
                continue
            seen.add(sid)
            dest = course.path("submitted", sid, assignment)
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            # an LMS renames files: store it under the assignment's notebook name
            name = f.name if f.name in release_names or not release_names else sorted(release_names)[0]
            shutil.copy2(f, dest / name)
            (dest / "timestamp.txt").write_text(stamp)
            report.imported[sid] = label
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return report
