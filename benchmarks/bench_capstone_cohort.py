"""A 300-learner capstone cohort end to end: collect -> grade -> rubric -> feedback -> export -> report.

The figure an educator cares about: how long one sitting takes for a whole year group. The
cohort is fabricated from `solutions/m8_capstone` (every hostile kind once, then full, partly
wrong, blank and crashing notebooks) with write-ups drawn from the strong and weak capstone
exemplars, so the rubric marker has real reports to read.

    python benchmarks/bench_capstone_cohort.py [--n 300] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from qicourse.grading import Limits, collect, export, feedback, grade, release, report, setup_course
from qicourse.grading.cohort import fabricate
from qicourse.paths import repo_root

ASSIGNMENT = "m8_capstone"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    root = repo_root()
    exemplars = root / "tests" / "fixtures" / "capstone"
    strong, weak = (exemplars / "strong.md").read_text(), (exemplars / "weak.md").read_text()
    writeups = {"good": strong, "weak": weak, "half": strong[: len(strong) // 2], "empty": ""}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        course_dir, cohort = tmp / "coursedir", tmp / "cohort"
        t = time.perf_counter()
        release([ASSIGNMENT], course_dir=course_dir, exercises_dir=tmp / "exercises")
        timings["set-up and release"] = time.perf_counter() - t
        source = root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        kinds = fabricate(source, course_dir / "release" / ASSIGNMENT / source.name, cohort, ASSIGNMENT,
                          n=args.n, seed=11, secrets=[str(course_dir / "gradebook.db"), str(source)],
                          write_to=str(course_dir / "escape.txt"), writeups=writeups)
        roster = ["id,first_name,last_name,email"] + [f"{s},L,{s},{s}@example.nhs.uk" for s in sorted(kinds)]
        (tmp / "students.csv").write_text("\n".join(roster) + "\n")
        setup_course(course_dir=course_dir, students=tmp / "students.csv")
        stages = [
            ("collect", lambda: collect(ASSIGNMENT, cohort, course_dir=course_dir)),
            ("grade + rubric", lambda: grade(ASSIGNMENT, course_dir=course_dir, workers=args.workers, progress=False,
                                            limits=Limits(cell_timeout=10, notebook_timeout=120))),
            ("feedback", lambda: feedback(ASSIGNMENT, course_dir=course_dir)),
            ("export", lambda: export(ASSIGNMENT, course_dir=course_dir, out_dir=tmp / "exports")),
            ("report", lambda: report(ASSIGNMENT, course_dir=course_dir, out_dir=tmp / "reports")),
        ]
        results = {}
        for name, run in stages:
            t = time.perf_counter()
            results[name] = run()
            timings[name] = time.perf_counter() - t
        run = results["grade + rubric"]
        print(f"{args.n} submissions of {ASSIGNMENT}, {args.workers} workers ({run.sandbox}); "
              f"{len(run.failures)} flagged or failed (hostile kinds included)")
    total = sum(timings.values())
    print("| stage | seconds | per submission |")
    print("|---|---|---|")
    for name, s in timings.items():
        print(f"| {name} | {s:.1f} | {s / args.n:.3f} |")
    print(f"| **total** | **{total:.1f}** | **{total / args.n:.3f}** |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
