"""Would a library beat the SMART analyser's own patterns? dateparser (time frames) and quantulum3 (targets).

    pip install dateparser quantulum3     # not dependencies of qicourse: measured here, not adopted
    python benchmarks/bench_rubric_libraries.py CORPUS.yaml

On each aim of a published-aims corpus file (see `qicourse.rubric.published`) it compares, against the
hand labels, whether a time frame is present (ours vs `dateparser.search.search_dates` on the aim
sentence) and whether a numeric target is present (ours vs `quantulum3.parser.parse`: a percentage,
rate, time or temperature), with the time each takes per aim. Prints each library's misses.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import yaml

from qicourse.rubric.smart import _pick_aim, analyse_smart_aim
from qicourse.rubric.text import strip_markdown


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, help="a published-aims corpus file (rubric: smart_aim, items with 'smart')")
    args = ap.parse_args(argv)
    try:
        import dateparser.search as ds
        from quantulum3 import parser as qp
    except ImportError as exc:
        print(f"needs dateparser and quantulum3 (pip install dateparser quantulum3): {exc}")
        return 1
    if not args.corpus.is_file():
        print(f"no such corpus file: {args.corpus}")
        return 1
    warnings.filterwarnings("ignore")
    items = [it for it in yaml.safe_load(args.corpus.read_text(encoding="utf-8"))["items"] if "smart" in it]
    agree = {"ours time": 0, "dateparser time": 0, "ours target": 0, "quantulum3 target": 0}
    spent = {"ours (whole analysis)": 0.0, "dateparser": 0.0, "quantulum3": 0.0}
    misses = []
    for it in items:
        lab = it["smart"]
        aim, _ = _pick_aim(strip_markdown(it["text"]))
        t0 = time.perf_counter()
        a = analyse_smart_aim(it["text"])
        spent["ours (whole analysis)"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        dates = ds.search_dates(aim, languages=["en"]) or []
        spent["dateparser"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        qs = [q for q in qp.parse(aim) if q.unit.name == "percentage" or "per" in q.unit.name
              or q.unit.name in ("minute", "hour", "degree Celsius")]
        spent["quantulum3"] += time.perf_counter() - t0
        tf, tg = lab["time_frame"]["present"], lab["target"]["present"]
        agree["ours time"] += (a.time_frame is not None) == tf
        agree["dateparser time"] += bool(dates) == tf
        agree["ours target"] += (a.target is not None) == tg
        agree["quantulum3 target"] += bool(qs) == tg
        if bool(dates) != tf:
            misses.append(f"dateparser {it['id']}: label {tf}, found {[d[0] for d in dates]}")
        if bool(qs) != tg:
            misses.append(f"quantulum3 {it['id']}: label {tg}, found {[(q.surface, q.unit.name) for q in qs]}")
    n = len(items)
    print(f"{n} aims from {args.corpus.name}")
    for k, v in agree.items():
        print(f"  agreement with labels, {k}: {v / n:.2f}")
    for k, v in spent.items():
        print(f"  time per aim, {k}: {1000 * v / n:.1f} ms")
    print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
