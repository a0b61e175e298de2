"""Grading throughput: `qicourse grade --workers 2` against plain sequential `nbgrader autograde`.

Same cohort for both (60 fabricated submissions: full, partly wrong, blank, error; no hostile
ones, which would only measure time limits) of a real course assignment, or the test fixture.
Reports the ratio, seconds per submission, worker start-up, per-submission overhead beyond the
learner's own cells, and memory per worker.

    python benchmarks/bench_grading.py [--assignment m0_getting_started] [--n 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from qicourse.grading import grade, release
from qicourse.grading.cohort import solved
from qicourse.paths import repo_root

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "grading"


def make_cohort(course_dir: Path, source: Path, assignment: str, n: int) -> None:
    rng = random.Random(3)
    rel = course_dir / "release" / assignment / source.name
    src_nb, rel_nb = nbformat.read(source, as_version=4), nbformat.read(rel, as_version=4)
    answers = [c.metadata["nbgrader"]["grade_id"] for c in src_nb.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    for k in range(n):
        kind = ["full", "partly", "blank", "error"][k % 4]
        if kind == "blank":
            nb = rel_nb
        else:
            keep = set(answers) if kind != "partly" else {a for a in answers if rng.random() < 0.5}
            nb = solved(src_nb, rel_nb, keep=keep)
            if kind == "error":
                idx = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
                nb.cells[idx[0]].source += "\n1/0"
        dest = course_dir / "submitted" / f"s{k:03d}" / assignment
        dest.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(dest / source.name))


def kernel_start_seconds(repeat: int = 3) -> float:
    """Median time to start an IPython kernel, wait until it answers, and shut it down (what nbgrader pays per notebook)."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3")
        kc.stop_channels()
        km.shutdown_kernel(now=False)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", default=None)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-plain", action="store_true", help="do not run plain nbgrader (slow)")
    args = ap.parse_args()
    sols = repo_root() / "solutions"
    if args.assignment:
        solutions_dir, assignment, datasets = sols, args.assignment, None
    else:
        solutions_dir, assignment, datasets = FIXTURE / "solutions", "fx_ward", FIXTURE / "datasets"
    source = next((solutions_dir / assignment).glob("*.ipynb"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        ours = tmp / "ours"
        release([assignment], course_dir=ours, solutions_dir=solutions_dir, exercises_dir=tmp / "ex")
        make_cohort(ours, source, assignment, args.n)
        plain = tmp / "plain"
        shutil.copytree(ours, plain, ignore=shutil.ignore_patterns("gradebook.db"))
        cfg = plain / "nbgrader_config.py"
        cfg.write_text(cfg.read_text().replace(str(ours), str(plain)))

        t = time.perf_counter()
        run = grade(assignment, course_dir=ours, workers=args.workers, progress=False, mark_writeups=False,
                    datasets_dir=datasets)
        ours_s = time.perf_counter() - t
        exec_s = [r.seconds for r in run.results]
        print(f"assignment {assignment}, {len(run.results)} submissions, sandbox {run.sandbox}")
        print(f"ours ({args.workers} workers): {ours_s:.1f} s total, {ours_s / len(run.results):.3f} s per submission")
        print(f"  worker warm start (imports, once per worker): {', '.join(f'{s:.2f}' for s in run.worker_startup_seconds)} s")
        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        overhead = [r.seconds - r.cells_seconds for r in run.results]
        print(f"  per submission in the worker: median {med(exec_s):.3f} s, of which the learner's cells "
              f"{med([r.cells_seconds for r in run.results]):.3f} s; worker overhead (fork, limits, collect) "
              f"median {med(overhead):.3f} s")
        print(f"  writer (nbgrader set-up, sanitise, save grades; overlaps the workers): "
              f"{run.writer_seconds / len(run.results):.3f} s per submission")
        print(f"  memory: warm worker peak RSS {run.worker_rss_mb:.0f} MB, largest forked child {run.child_rss_mb:.0f} MB")
        print(f"kernel start + shutdown (plain nbgrader, per notebook): {kernel_start_seconds():.2f} s median of 3")
        if not args.skip_plain:
            env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
            if datasets:
                env["QICOURSE_DATA"] = str(datasets)
            nbg = str(Path(sys.executable).parent / "nbgrader")
            subprocess.run([nbg, "generate_assignment", assignment, "--force"], cwd=plain, env=env, capture_output=True, check=True)
            t = time.perf_counter()
            subprocess.run([nbg, "autograde", assignment], cwd=plain, env=env, capture_output=True)
            plain_s = time.perf_counter() - t
            print(f"plain nbgrader autograde (sequential): {plain_s:.1f} s total, {plain_s / args.n:.3f} s per submission")
            print(f"ratio: {plain_s / ours_s:.2f}x")
            from nbgrader.api import Gradebook

            same = 0
            with Gradebook(f"sqlite:///{ours / 'gradebook.db'}") as a, Gradebook(f"sqlite:///{plain / 'gradebook.db'}") as b:
                for r in run.results:
                    mine = {g.name: g.score for g in a.find_submission_notebook(r.notebook, assignment, r.student).grades}
                    theirs = {g.name: g.score for g in b.find_submission_notebook(r.notebook, assignment, r.student).grades}
                    same += mine == theirs
            print(f"identical scores per question: {same}/{len(run.results)} submissions")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
