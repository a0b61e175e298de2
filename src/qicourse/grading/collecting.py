"""Import submissions into `submitted/<student>/<assignment>/` from a folder or an LMS bulk download.

Moodle names files `Full Name_12345_assignsubmission_file_x.ipynb` (12345: the participant id),
Canvas `lastfirst_12345_67890_x.ipynb` (12345: the Canvas user id; a `late` marker may follow the
name). Both are matched to students through the student list (LMS id, then name). Unknown
students, duplicates and non-notebook files are reported, never silently dropped.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from traitlets import Integer
from traitlets.config import Configurable

from qicourse.grading.course import open_course, student_id_problem

MOODLE = re.compile(r"^(?P<name>.+?)_(?P<lms>\d+)_assignsubmission_file_(?P<file>.+)$")
CANVAS = re.compile(r"^(?P<name>[a-z0-9]+?)(?:_late)?_(?P<lms>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
_MB = 1 << 20
_CHUNK = 1 << 20


class CollectLimits(Configurable):
    """Size caps for `qicourse collect`, set like any nbgrader option in `grader/nbgrader_config.py`
    (e.g. `c.CollectLimits.max_notebook_bytes = 50 * 2**20`). A zip's entries are streamed and
    counted as they decompress, so a small zip that expands to gigabytes never reaches the disk."""

    max_notebook_bytes = Integer(20 * _MB, help="largest notebook accepted (bytes, decompressed)").tag(config=True)
    max_zip_bytes = Integer(500 * _MB, help="most bytes decompressed from one zip, all entries together").tag(config=True)


@dataclass
class CollectReport:
    assignment: str
    imported: dict[str, str] = field(default_factory=dict)
    """student id -> file imported"""
    unknown_students: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    not_notebooks: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)
    """entries over a size cap: never written in full"""
    skipped: list[str] = field(default_factory=list)
    """odd entries (paths leaving the folder, links, device files, repeated names, unsafe ids, damaged data)"""

    def to_text(self) -> str:
        lines = [f"collected {len(self.imported)} submission(s) of {self.assignment}"]
        for label, items in (("unknown student (not imported)", self.unknown_students),
                             ("duplicate (not imported; first file kept)", self.duplicates),
                             ("not a notebook (not imported)", self.not_notebooks),
                             ("too large (not imported)", self.too_large),
                             ("skipped (not imported)", self.skipped)):
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


def _odd_entry(info: zipfile.ZipInfo, seen_names: set[str]) -> str | None:
    """Why a zip entry must not be extracted at all (None if it may be looked at)."""
    name = info.filename
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in parts:
        return "path with '..'"
    if parts[-1] in ("", "."):
        return "no file name"
    if info.create_system == 3:  # made on Unix: the file type is in the high bits of external_attr
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            return "symbolic link"
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            return "device, pipe or socket"
    if name in seen_names:
        return "entry name repeated in the zip"
    return None


def _extract_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, cap: int) -> int | None:
    """Stream one entry to `target`, stopping as soon as more than `cap` bytes come out.

    Returns the bytes written, or None (and nothing left on disk) if the entry was over the cap.
    The declared size is checked by the caller; this counts what really decompresses.
    """
    written = 0
    with zf.open(info) as src, target.open("wb") as dst:
        while True:
            chunk = src.read(min(_CHUNK, cap - written + 1))
            if not chunk:
                return written
            written += len(chunk)
            if written > cap:
                break
            dst.write(chunk)
    target.unlink()
    return None


def _from_zip(source: Path, tmp: Path, limits: CollectLimits, report: CollectReport,
              by_lms: dict, by_name: dict) -> list[tuple[str | None, str, Path]]:
    """The notebooks of known students in an LMS zip, extracted within the caps; everything else reported."""
    found = []
    seen_names: set[str] = set()
    claimed: set[str] = set()
    total = 0
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{source}: damaged zip file ({exc})") from None
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            why = _odd_entry(info, seen_names)
            seen_names.add(info.filename)
            if why:
                report.skipped.append(f"{info.filename!r}: {why}")
                continue
            parts = re.split(r"[/\\]", info.filename)
            name = parts[-1]
            if not name.endswith(".ipynb") or name.startswith("."):
                report.not_notebooks.append(info.filename)
                continue
            label_name = name
            if len(parts) > 1 and MOODLE.match(parts[-2] + "_x"):  # newer Moodle: a folder per learner
                label_name = f"{parts[-2]}_{name}"
            sid, label = _lms_match(label_name, by_lms, by_name)
            if sid is None:
                report.unknown_students.append(label)
                continue
            if sid in claimed:
                report.duplicates.append(f"{sid}: {info.filename}")
                continue
            claimed.add(sid)
            cap = min(limits.max_notebook_bytes, limits.max_zip_bytes - total)
            if info.file_size > cap:
                report.too_large.append(_too_large(info.filename, info.file_size, limits, total))
                continue
            target = tmp / str(len(found)) / name
            target.parent.mkdir(parents=True)
            try:
                size = _extract_capped(zf, info, target, cap)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                report.skipped.append(f"{info.filename!r}: damaged or unsupported entry ({exc})")
                continue
            if size is None:
                report.too_large.append(_too_large(info.filename, cap + 1, limits, total) + " (more than it declared)")
                continue
            total += size
            found.append((sid, info.filename, target))
    return found


def _too_large(name: str, size: int, limits: CollectLimits, total: int) -> str:
    if size > limits.max_notebook_bytes:
        return f"{name}: {size / _MB:.1f} MB, over the {limits.max_notebook_bytes / _MB:g} MB limit per notebook"
    return (f"{name}: would take the zip past its {limits.max_zip_bytes / _MB:g} MB limit "
            f"({total / _MB:.1f} MB already extracted)")


def _from_folder(source: Path, assignment: str, known: set[str], limits: CollectLimits,
                 report: CollectReport) -> list[tuple[str | None, str, Path]]:
    found = []
    for sdir in sorted(p for p in source.iterdir() if p.is_dir()):
        problem = student_id_problem(sdir.name)
        if problem:
            report.skipped.append(f"{sdir.name}/: {problem}")
            continue
        adir = sdir / assignment
        if not adir.is_dir():
            report.not_notebooks.append(f"{sdir.name}/ has no {assignment}/ folder")
            continue
        for f in sorted(adir.rglob("*")):
            label = f"{sdir.name}/{f.relative_to(adir)}"
            if f.is_symlink():
                report.skipped.append(f"{label}: symbolic link")
                continue
            if not f.is_file():
                continue
            if f.suffix == ".ipynb" and f.stat().st_size > limits.max_notebook_bytes:
                report.too_large.append(_too_large(label, f.stat().st_size, limits, 0))
                continue
            sid = sdir.name if (not known or sdir.name in known) else None
            found.append((sid, label, f))
    return found


def collect(assignment: str, source: str | Path, *, course_dir: str | Path | None = None,
            timestamp: str | None = None, limits: CollectLimits | None = None) -> CollectReport:
    """Copy every learner's notebook into the course; report everything not imported.

    `limits` defaults to the course's configuration (`CollectLimits` in nbgrader_config.py).
    """
    course = open_course(course_dir)
    if assignment not in course.assignments():
        raise ValueError(f"Unknown assignment {assignment!r}; the course has: {', '.join(course.assignments()) or 'none'}")
    limits = limits or CollectLimits(config=course.config())
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"No submissions at {source}")
    report = CollectReport(assignment)
    stamp = timestamp or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    by_lms, by_name = _student_index(course)
    known = set(by_name.values()) | set(by_lms.values())
    tmp = None
    try:
        if source.is_file() and zipfile.is_zipfile(source):
            tmp = Path(tempfile.mkdtemp(prefix="qicourse-collect-"))
            found = _from_zip(source, tmp, limits, report, by_lms, by_name)
        elif source.is_dir():
            found = _from_folder(source, assignment, known, limits, report)
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
            problem = student_id_problem(sid)
            if problem:  # an id added to the gradebook by hand (formgrader) that cannot be a folder name
                report.skipped.append(f"{label}: {problem}")
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
