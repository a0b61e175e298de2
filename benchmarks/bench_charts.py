"""Charts benchmark: false-signal rates of each rule set on stable processes, and speed.

Calibration: simulate many stable series (independent standard normal values, no change) of
n points, run ``qic()`` and count the fraction of series with any signal (a flagged point or a
phase runs signal). Anhøj & Olesen (2014) designed their rules for a false-signal rate of about
5 % largely independent of n; the IHI and MDC rule sets were not, and their rate grows with n.

Speed: ``qic()`` on a 10,000-point series (best of 5).

Usage: python benchmarks/bench_charts.py [--reps 2000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from qicourse.charts import ShortSeriesWarning, qic

CONFIGS = [
    ("run", "anhoej"),
    ("run", "ihi"),
    ("i", "shewhart"),
    ("i", "anhoej"),
    ("i", "ihi"),
    ("i", "mdc"),
]
SIZES = (12, 24, 50, 100)


def false_signal_rate(chart: str, rules: str, n: int, reps: int, rng: np.random.Generator) -> float:
    """Fraction of stable series of n points with at least one signal."""
    hits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShortSeriesWarning)
        for _ in range(reps):
            res = qic(rng.normal(size=n), chart=chart, rules=rules)
            hits += bool(res.points["signal"].any() or res.summary["runs_signal"])
    return hits / reps


def speed(n: int = 10_000, repeat: int = 5) -> dict[str, float]:
    rng = np.random.default_rng(1)
    y = rng.normal(size=n)
    out = {}
    for chart, rules in (("run", "anhoej"), ("run", "ihi"), ("i", "mdc")):
        qic(y, chart=chart, rules=rules)  # warm the critical-value caches once
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            qic(y, chart=chart, rules=rules)
            best = min(best, time.perf_counter() - t)
        out[f"{chart}/{rules}"] = best
    t = time.perf_counter()
    qic(rng.normal(size=n + 1), chart="run")  # new n: critical values not cached
    out["run/anhoej (cold cache)"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000, help="series per cell")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"False-signal rate on stable normal series ({args.reps} series per cell, seed {args.seed})")
    print("| chart | rules | " + " | ".join(f"n={n}" for n in SIZES) + " |")
    print("|---|---|" + "---|" * len(SIZES))
    for chart, rules in CONFIGS:
        rates = [false_signal_rate(chart, rules, n, args.reps, rng) for n in SIZES]
        print(f"| {chart} | {rules} | " + " | ".join(f"{r:.1%}" for r in rates) + " |")
    print()
    print("Speed, 10,000 points (best of 5, seconds)")
    for key, secs in speed().items():
        print(f"| {key} | {secs:.3f} |")


if __name__ == "__main__":
    main()
