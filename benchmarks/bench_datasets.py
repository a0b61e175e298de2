"""How long does generating (and loading) all the ward datasets take? Target: build under 5 s.

Run: `.venv/bin/python benchmarks/bench_datasets.py [--repeat N]`. Each repeat builds every
dataset, truth file and the data dictionary into a fresh temporary folder, in process; the cold
command (`qicourse datasets build` in a new interpreter, imports included) is timed once too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

from qicourse.data import build_all, list_datasets, load
from qicourse.data.build import read_recipes
from qicourse.data.generators import generate_all

TARGET_SECONDS = 5.0


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    recipes = read_recipes()

    def build():
        with tempfile.TemporaryDirectory() as tmp:
            build_all(tmp)

    build_times = _timed(build, args.repeat)
    gen_times = _timed(lambda: generate_all(recipes), args.repeat)
    load_times = _timed(lambda: [load(n) for n in list_datasets()], args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qicourse.cli", "datasets", "build", "--out", tmp],
                       check=True, capture_output=True)
        cold = time.perf_counter() - start
    worst = max(build_times)
    print(f"build_all (generate + write {len(list_datasets())} datasets): median "
          f"{statistics.median(build_times):.2f} s, worst {worst:.2f} s over {args.repeat} runs "
          f"(target < {TARGET_SECONDS:.0f} s)")
    print(f"cold `qicourse datasets build` (new interpreter, imports included): {cold:.2f} s")
    print(f"generate only: median {statistics.median(gen_times):.2f} s")
    print(f"load all datasets: median {statistics.median(load_times):.2f} s")
    ok = worst < TARGET_SECONDS and cold < TARGET_SECONDS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
