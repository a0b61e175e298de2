"""Fairness of the auto-grading, measured on answers written without seeing the solutions or tests.

Runs an answer bank through the real grading path (`tests/answer_bank/harness.py`) and prints, per
assignment: correct answers accepted, wrong answers caught, caught wrong answers told their mistake.
`--bank heldout` uses `tests/answer_bank/heldout/`, written blind by someone who never saw the
tests and never used to tune them; the default is the tuning bank that CI runs.

    .venv/bin/python benchmarks/bench_answer_bank.py [--bank tuning|heldout] [--details] [ASSIGNMENT ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "answer_bank"))
import harness  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("assignments", nargs="*")
    ap.add_argument("--bank", choices=("tuning", "heldout"), default="tuning")
    ap.add_argument("--details", action="store_true", help="list every disagreement")
    args = ap.parse_args(argv)
    bank_dir = harness.BANK / "heldout" if args.bank == "heldout" else harness.BANK
    assignments = args.assignments or sorted(p.stem for p in bank_dir.glob("*.yaml"))
    print(f"| assignment ({args.bank} bank) | correct accepted | wrong caught | caught, mistake named | seconds |")
    print("|---|---|---|---|---|")
    totals = [0] * 6
    details = []
    for a in assignments:
        t0 = time.perf_counter()
        outcomes = harness.run_bank(a, bank_dir=bank_dir)
        s = harness.summary(a, outcomes)
        row = (s["accepted"], s["correct"], s["caught"], s["wrong"], s["named"], s["caught"])
        totals = [t + r for t, r in zip(totals, row)]
        print(f"| {a} | {row[0]}/{row[1]} | {row[2]}/{row[3]} | {row[4]}/{row[5]} | {time.perf_counter() - t0:.0f} |")
        details += [f"- {a} {o.entry['id']}: {'; '.join(o.problems)} — {o.message[:200]!r}" for o in outcomes if not o.agrees]
    print(f"| **all** | {totals[0]}/{totals[1]} | {totals[2]}/{totals[3]} | {totals[4]}/{totals[5]} | |")
    if args.details:
        print("\n".join(details))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
