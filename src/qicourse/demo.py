"""`qicourse demo`: the whole educator's flow on a synthetic cohort, from a fresh clone or an installed package.

Builds the datasets, sets up a course directory, releases the assignments, fabricates a cohort
(full marks, partly wrong, blank, errors, hostile notebooks, write-ups of varied quality),
collects, grades in parallel sandboxed workers, marks write-ups against the rubric, and writes
the cohort report, feedback and exports into `demo-output/`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

WRITEUPS = {
    "good": ("By 31 March 2027 we will reduce inpatient falls on Ward 7 (elderly care) from a median of 8 to 5 "
             "per 1,000 occupied bed days, measured weekly from Datix incident reports and shown on a run chart."),
    "vague": "We want to make the ward safer and reduce harm to patients as much as possible.",
    "partial": "Reduce falls on the elderly care ward by 30% this year.",
    "empty": "",
}


def run_demo(*, out_dir: str | Path | None = None, assignments: list[str] | None = None, students: int = 30,
             workers: int | None = None) -> dict[str, Path]:
    """Run the demo; return where the outputs are."""
    from qicourse.data import build_all
    from qicourse.grading import Limits, collect, export, feedback, grade, release, report, setup_course
    from qicourse.grading.cohort import fabricate
    from qicourse.paths import PACKAGED_ASSETS, repo_root, workspace

    root = repo_root()
    out = Path(out_dir) if out_dir else workspace() / "demo-output"
    t0 = time.perf_counter()
    if root == PACKAGED_ASSETS:  # an installed package's datasets were built and checked when it was made
        print("using the installed package's synthetic ward datasets ...")
    else:
        print("building the synthetic ward datasets ...")
        build_all()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    course_dir = out / "coursedir"
    available = sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
    # the first assignment, plus the aims assignment whose write-up the rubric marks
    chosen = assignments or list(dict.fromkeys(available[:1] + [a for a in available if a == "m3_aims"] + available[1:2]))[:2]
    if not chosen:
        raise FileNotFoundError("solutions/ has no assignments to demonstrate")
    print(f"setting up the course and releasing {', '.join(chosen)} ...")
    release(chosen, course_dir=course_dir, exercises_dir=out / "exercises")
    cohort_dir = out / "cohort"
    roster = ["id,first_name,last_name,email,lms_id"]
    made = {}
    for a in chosen:
        src = next((root / "solutions" / a).glob("*.ipynb"))
        made[a] = fabricate(src, course_dir / "release" / a / src.name, cohort_dir, a, n=students, seed=7,
                            secrets=[str(course_dir / "gradebook.db"), str(src)],
                            write_to=str(course_dir / "pwned.txt"), writeups=WRITEUPS)
    ids = sorted({s for kinds in made.values() for s in kinds})
    for k, sid in enumerate(ids):
        roster.append(f"{sid},Learner,{k + 1:03d},{sid}@example.nhs.uk,{50000 + k}")
    (out / "students.csv").write_text("\n".join(roster) + "\n")
    setup_course(course_dir=course_dir, students=out / "students.csv")
    where = {"course directory (open with formgrader)": course_dir}
    for a in chosen:
        rep = collect(a, cohort_dir, course_dir=course_dir)
        print(rep.to_text())
        run = grade(a, course_dir=course_dir, workers=workers, limits=Limits(cell_timeout=10, notebook_timeout=120),
                    allow_no_sandbox=True)  # a cohort fabricated here; the summary below names the sandbox
        print(f"{a}: graded {len(run.results)} in {run.seconds:.1f} s ({run.sandbox}); "
              f"{len(run.failures)} need a look:")
        for r in run.failures:
            print(f"  {r.student}: {r.status}: {'; '.join(r.reasons)[:150]}")
        where[f"{a} report"] = report(a, course_dir=course_dir, out_dir=out / "reports")
        fb = feedback(a, course_dir=course_dir, workers=workers)
        where[f"{a} feedback (one HTML per learner)"] = fb[0].parent.parent.parent if fb else course_dir / "feedback"
        for name, path in export(a, course_dir=course_dir, out_dir=out / "exports").items():
            where[name] = path
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f} s. Outputs:")
    for label, path in where.items():
        print(f"  {label}: {path}")
    return where


def _main(args) -> int:
    run_demo(out_dir=args.out, assignments=args.assignment or None, students=args.students, workers=args.workers)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the whole course-grading flow on a synthetic cohort",
                              description=__doc__.splitlines()[0])
    p.add_argument("--out", default=None, help="output folder (default: demo-output/)")
    p.add_argument("--assignment", action="append", help="assignment to use (repeatable; default: the first two)")
    p.add_argument("--students", type=int, default=30, help="submissions per assignment (default 30)")
    p.add_argument("--workers", type=int, default=None, help="grading workers (default: number of cores)")
    p.set_defaults(func=_main)
