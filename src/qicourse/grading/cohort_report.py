"""Cohort report: score distribution, per-question pass rates, most common failing tests, and the
submissions that could not be graded cleanly (with why). HTML with PNG plots (matplotlib Agg)."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from pathlib import Path

import nbformat

from qicourse.grading.autograde import load_results
from qicourse.grading.check import _first_error
from qicourse.grading.course import open_course
from qicourse.grading.safeio import write_bytes, write_text


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _failures(course, assignment: str, student: str) -> dict[str, str]:
    """grade_id -> first error message, for test cells that lost marks."""
    out = {}
    for path in course.path("autograded", student, assignment).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                msg = _first_error(cell)
                if msg:
                    out[meta["grade_id"]] = msg
    return out


def report(assignment: str, *, course_dir: str | Path | None = None, out_dir: str | Path | None = None) -> Path:
    """Write `<out>/<assignment>_report.html` and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    course = open_course(course_dir)
    results = load_results(course, assignment)
    if not results:
        raise ValueError(f"No graded submissions of {assignment}: run `qicourse grade {assignment}` first")
    out = Path(out_dir) if out_dir else course.root / "reports"
    out.mkdir(parents=True, exist_ok=True)
    graded = {s: r for s, r in results.items() if r["status"] != "error"}
    scores = [r["score"] for r in graded.values() if r["score"] is not None]
    max_score = next(iter(results.values()))["max_score"]
    auto_q: dict[str, list[bool]] = {}
    for r in graded.values():
        for q in r["questions"]:
            if q["cell_type"] == "code" and not q["needs_manual_grade"]:
                auto_q.setdefault(q["grade_id"], []).append((q["score"] or 0) >= q["max_score"])
    fail_msgs: Counter = Counter()
    fail_tests: Counter = Counter()
    for s in graded:
        for gid, msg in _failures(course, assignment, s).items():
            fail_tests[gid] += 1
            fail_msgs[(gid, msg)] += 1

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(scores, bins=min(20, max(5, int(max_score) + 1)), range=(0, max_score), color="#005eb8")
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("learners")
    ax.set_title(f"{assignment}: score distribution (n = {len(scores)})")
    hist_png = _png(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 0.4 * max(3, len(auto_q)) + 1))
    names = list(auto_q)
    rates = [100 * sum(v) / len(v) for v in auto_q.values()]
    ax.barh(names, rates, color="#41b6e6")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded learners with full marks")
    ax.invert_yaxis()
    ax.set_title("Pass rate per question")
    pass_png = _png(fig)
    plt.close(fig)

    def table(head, rows):
        h = "".join(f"<th>{html.escape(str(x))}</th>" for x in head)
        b = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in rows)
        return f"<table><tr>{h}</tr>{b}</table>"

    problems = [(s, r["status"], "; ".join(r["reasons"])) for s, r in sorted(results.items()) if r["status"] != "ok"]
    common = [(gid, n, f"{100 * n / max(len(graded), 1):.0f}%") for gid, n in fail_tests.most_common()]
    msgs = [(gid, msg, n) for (gid, msg), n in fail_msgs.most_common(15)]
    mean = sum(scores) / len(scores) if scores else float("nan")
    body = (
        f"<h1>Cohort report: {html.escape(assignment)}</h1>"
        f"<p>{len(results)} submissions; {len(graded)} graded; {len(results) - len(graded)} could not be graded; "
        f"mean score {mean:.2f}/{max_score:g}. Write-up marks from the rubric are provisional until confirmed in formgrader.</p>"
        f"<h2>Score distribution</h2><img src='data:image/png;base64,{hist_png}' alt='histogram of scores'>"
        f"<h2>Per-question pass rates</h2><img src='data:image/png;base64,{pass_png}' alt='pass rate per question'>"
        f"<h2>Most common failing tests</h2>{table(['test', 'learners failing', 'share'], common)}"
        f"<h3>Most common failure messages</h3>{table(['test', 'message', 'learners'], msgs)}"
        f"<h2>Submissions that errored or need a look</h2>{table(['student', 'status', 'why'], problems)}"
    )
    path = out / f"{assignment}_report.html"
    write_text(path, "<!doctype html><html><head><meta charset='utf-8'><title>Cohort report</title><style>"
                    "body{font-family:sans-serif;max-width:70em;margin:2em auto}td,th{border:1px solid #ccc;padding:4px}"
                    f"table{{border-collapse:collapse}}</style></head><body>{body}</body></html>")
    write_bytes(out / f"{assignment}_score_distribution.png", base64.b64decode(hist_png))
    write_bytes(out / f"{assignment}_pass_rates.png", base64.b64decode(pass_png))
    return path
