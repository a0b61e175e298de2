"""Time each lesson from a fresh kernel: the design promises each runs top to bottom in under 30 s.

Usage: python benchmarks/bench_lessons.py  (prints a Markdown table)
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 30.0


def time_lesson(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main() -> int:
    print("| lesson | seconds (fresh kernel, incl. start-up) | under 30 s |")
    print("|---|---|---|")
    worst = 0.0
    for lesson in sorted((REPO / "course").glob("[0-9][0-9]_*.ipynb")):
        s = time_lesson(lesson)
        worst = max(worst, s)
        print(f"| {lesson.name} | {s:.1f} | {'yes' if s < TARGET_S else 'NO'} |")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
