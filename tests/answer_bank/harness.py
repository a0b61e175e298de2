"""Run an assignment's answer bank through the real grading path and compare with its labels.

Each bank entry replaces one answer cell (plus any `extra_cells`) of the model-answer notebook;
every entry becomes one learner of a cohort that is collected and graded like any other
(`qicourse.grading.collect` + `grade`, sandboxed workers, nbgrader's own scoring). An entry
agrees with its label when:
- `correct`: its question gets full marks;
- `wrong`: its question loses marks, and the message the learner sees (as `qicourse check` shows
  it) names the mistake (contains one of `expect_message`, case-insensitive), is not a generic
  "a hidden test failed", and shows no expected value dump (numpy/pandas assertion text).

Usage: python tests/answer_bank/harness.py ASSIGNMENT [ASSIGNMENT ...] [--only SUBSTRING] [--workers N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

BANK = Path(__file__).resolve().parent
REPO = BANK.parent.parent
VERDICTS = ("correct", "wrong")
GENERIC = ("a hidden test failed", "no marks for this question", "")
# Assertion text that numpy/pandas write themselves: it prints the expected values.
LEAKS = re.compile(r"DESIRED|ACTUAL|Arrays are not|are different\b|Expected:|\[left\]|\[right\]|Mismatched elements",
                   re.I)


@dataclass
class Outcome:
    entry: dict
    score: float | None
    max_score: float | None
    message: str
    status: str
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems


def load_bank(assignment: str, bank_dir: Path = BANK) -> list[dict]:
    """The bank's entries, checked for the fields the harness needs (a bad entry is named, not skipped)."""
    path = Path(bank_dir) / f"{assignment}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("assignment") != assignment:
        raise ValueError(f"{path.name}: 'assignment: {assignment}' missing")
    entries = data.get("entries") or []
    seen, bad = set(), []
    for i, e in enumerate(entries):
        eid = e.get("id", f"#{i}")
        for key in ("id", "answer_cell", "question", "verdict", "code"):
            if not e.get(key) and key != "code":
                bad.append(f"{eid}: no {key}")
        if "code" not in e:
            bad.append(f"{eid}: no code")
        if e.get("verdict") not in VERDICTS:
            bad.append(f"{eid}: verdict must be one of {VERDICTS}")
        if e.get("verdict") == "wrong" and not e.get("expect_message"):
            bad.append(f"{eid}: a wrong answer needs expect_message (words naming the mistake)")
        if eid in seen:
            bad.append(f"{eid}: duplicate id")
        seen.add(eid)
    if bad:
        raise ValueError(f"{path.name}: " + "; ".join(bad))
    return entries


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _judge(entry: dict, score, max_score, message: str) -> list[str]:
    problems = []
    full = score is not None and max_score is not None and score >= max_score
    if entry["verdict"] == "correct":
        if not full:
            problems.append("correct answer rejected")
        return problems
    if full:
        return ["wrong answer accepted"]
    words = entry["expect_message"]
    words = [str(w) for w in ([words] if isinstance(words, str) else words)]
    low = message.lower()
    if low.split(": ", 1)[-1].strip() in GENERIC:
        problems.append("caught, but the message is generic")
    elif not any(w.lower() in low for w in words):
        problems.append(f"caught, but the message does not name the mistake (wanted one of {words})")
    if LEAKS.search(message):
        problems.append("the message shows an expected-value dump")
    return problems


def run_bank(assignment: str, *, only: str | None = None, workers: int = 2, workdir: Path | None = None,
             bank_dir: Path = BANK) -> list[Outcome]:
    """Grade every entry of `assignment`'s bank as one cohort; return an Outcome per entry."""
    from qicourse.grading import collect, grade, release
    from qicourse.grading.check import _first_error
    from qicourse.grading.cohort import solved

    entries = [e for e in load_bank(assignment, bank_dir) if not only or only in e["id"]]
    root = Path(workdir or tempfile.mkdtemp(prefix=f"bank-{assignment}-"))
    course_dir = root / "course"
    release([assignment], course_dir=course_dir, solutions_dir=REPO / "solutions", exercises_dir=root / "exercises")
    src_path = next((REPO / "solutions" / assignment).glob("*.ipynb"))
    rel_path = course_dir / "release" / assignment / src_path.name
    src, rel = nbformat.read(src_path, as_version=4), nbformat.read(rel_path, as_version=4)
    model = solved(src, rel)
    ids = {_grade_id(c) for c in model.cells}
    subs = root / "submissions"
    learners = {}
    for n, e in enumerate(entries):
        cells = {e["answer_cell"]: e["code"], **(e.get("extra_cells") or {})}
        missing = sorted(set(cells) - ids) + ([e["question"]] if e["question"] not in ids else [])
        if missing:
            raise ValueError(f"{assignment} bank entry {e['id']}: no cell {', '.join(missing)} in the assignment")
        nb = solved(src, rel)
        for cell in nb.cells:
            if _grade_id(cell) in cells:
                cell.source = cells[_grade_id(cell)]
        sid = f"e{n:03d}"
        learners[sid] = e
        (subs / sid / assignment).mkdir(parents=True)
        nbformat.write(nb, str(subs / sid / assignment / src_path.name))
    collect(assignment, subs, course_dir=course_dir)
    run = grade(assignment, course_dir=course_dir, workers=workers, progress=False, mark_writeups=False)
    outcomes = []
    by_student = {r.student: r for r in run.results}
    for sid, e in learners.items():
        res = by_student[sid]
        q = next((q for q in res.questions if q["grade_id"] == e["question"]), None)
        score = q["score"] if q else None
        max_score = q["max_score"] if q else None
        graded = course_dir / "autograded" / sid / assignment / src_path.name
        message = ""
        if graded.is_file():
            for c in nbformat.read(graded, as_version=4).cells:
                if _grade_id(c) == e["question"]:
                    message = _first_error(c)
        status = res.status if not res.reasons else f"{res.status}: {'; '.join(res.reasons)}"
        outcomes.append(Outcome(e, score, max_score, message, status, _judge(e, score, max_score, message)))
    return outcomes


def summary(assignment: str, outcomes: list[Outcome]) -> dict:
    """Counts for the benchmark table: accepted, caught, and caught with a named mistake."""
    correct = [o for o in outcomes if o.entry["verdict"] == "correct"]
    wrong = [o for o in outcomes if o.entry["verdict"] == "wrong"]
    caught = [o for o in wrong if "wrong answer accepted" not in o.problems]
    return {"assignment": assignment, "correct": len(correct), "accepted": sum(o.agrees for o in correct),
            "wrong": len(wrong), "caught": len(caught), "named": sum(o.agrees for o in caught),
            "blind": sum(o.entry.get("phase") == "blind" for o in outcomes)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("assignments", nargs="+")
    ap.add_argument("--only", help="only entries whose id contains this")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--all", action="store_true", help="print every entry, not only disagreements")
    args = ap.parse_args(argv)
    bad = 0
    for a in args.assignments:
        outcomes = run_bank(a, only=args.only, workers=args.workers)
        for o in outcomes:
            if o.problems or args.all:
                mark = "ok  " if o.agrees else "FAIL"
                print(f"{mark} {o.entry['id']} [{o.entry['verdict']}] score {o.score}/{o.max_score}"
                      f"{'; ' + '; '.join(o.problems) if o.problems else ''}\n      message: {o.message[:300]!r}")
        s = summary(a, outcomes)
        bad += sum(not o.agrees for o in outcomes)
        print(f"{a}: correct accepted {s['accepted']}/{s['correct']}, wrong caught {s['caught']}/{s['wrong']}, "
              f"caught with the mistake named {s['named']}/{s['caught']} ({s['blind']} entries written blind)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
