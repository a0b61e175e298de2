"""Rubric marker benchmark: speed on a cohort of capstone reports, and agreement with hand marks.

    python benchmarks/bench_rubric.py               # print the tables
    python benchmarks/bench_rubric.py --write-readme  # also rewrite the "Rubric marker" section of README.md
    python benchmarks/bench_rubric.py --published DIR [--split dev|heldout]   # also the published corpus
    python benchmarks/bench_rubric.py --published DIR --only-published       # the corpus only (seconds)

`--published DIR` reads the corpus files `DIR/*_<split>.yaml` and the later batches of that split
(`DIR/*_<split>2.yaml`, `*_<split>3.yaml`, ...; default split: dev; the held-out split is for whoever did
not tune the marker) and prints SMART element agreement per element, SMART verdict
agreement, report-section recall and precision, QWK per criterion and on the total per rubric, and each
hand-marked item's distance from the expert's total (adversarial capstones: target within 3 points).

Speed: marks 300 capstone reports (the calibration reports cycled, each made unique) and one
50,000-word answer per rubric; target < 30 s for the 300. Agreement: exact agreement and Cohen's
quadratic weighted kappa (QWK, implemented in `qicourse.rubric.agreement`) per criterion between
the marker and the hand marks in `tests/calibration/`, for the development set, the first
held-out set, the second (never tuned) held-out set and all pooled. Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import yaml

from qicourse.rubric import load_rubric, mark_answer
from qicourse.rubric.calibration import CalibrationReport, evaluate
from qicourse.rubric.published import evaluate_published

ROOT = Path(__file__).resolve().parent.parent
CAL = ROOT / "tests" / "calibration"
README = Path(__file__).resolve().parent / "README.md"
STEMS = {"smart_aim": "aims", "pdsa_plan": "pdsa", "capstone": "capstone"}
TARGET = {"smart_aim": 0.8, "pdsa_plan": 0.7, "capstone": 0.7}
#: rubrics added later, each with one calibration file marked before the marker was first run on it
SMALL = {"problem_statement": "problem_statements", "run_chart_interpretation": "run_chart_interpretations"}
SETS = [("development (tuned on)", ""), ("held-out 1 (first run, then tuned on)", "heldout_"),
        ("held-out 2 (never tuned on)", "heldout2_")]


def bench_speed(n: int = 300) -> dict:
    rubric = load_rubric("capstone")
    items = []
    for prefix in ("", "heldout_", "heldout2_"):
        items += yaml.safe_load((CAL / f"{prefix}capstone.yaml").read_text())["items"]
    t0 = time.perf_counter()
    for i in range(n):
        it = items[i % len(items)]
        mark_answer(rubric, f"{it['text']}\n\nSubmitted by learner {i:03d}.", it.get("facts"))
    cohort = time.perf_counter() - t0
    long_text = " ".join(it["text"] for it in items)
    words = len(long_text.split())
    long_text = (long_text + " ") * (50_000 // words + 1)
    longest = 0.0
    for name in STEMS:
        t0 = time.perf_counter()
        mark_answer(name, long_text)
        longest = max(longest, time.perf_counter() - t0)
    # hostile answers that make careless regular expressions quadratic (runs of digits, blank lines, headings)
    hostile = ["1" * 200_000, "x" + "\n" * 200_000, " \n" * 100_000, "## Aim\n" * 30_000, "12 " * 60_000,
               "1 of 2 " * 30_000, "Plan: " * 30_000, "**a** " * 40_000, "from 1 to " * 20_000]
    worst = 0.0
    for text in hostile:
        for name in STEMS:
            t0 = time.perf_counter()
            mark_answer(name, text)
            worst = max(worst, time.perf_counter() - t0)
    return {"n": n, "cohort_s": cohort, "per_report_ms": 1000 * cohort / n, "long_words": len(long_text.split()),
            "long_s": longest, "hostile_s": worst}


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def agreement() -> dict[str, dict[str, CalibrationReport]]:
    out: dict[str, dict[str, CalibrationReport]] = {}
    for rid, stem in STEMS.items():
        out[rid] = {name: evaluate(CAL / f"{prefix}{stem}.yaml") for name, prefix in SETS}
        out[rid]["pooled"] = evaluate(*(CAL / f"{prefix}{stem}.yaml" for _, prefix in SETS))
    for rid, stem in SMALL.items():
        out[rid] = {"pooled": evaluate(CAL / f"{stem}.yaml")}
    return out


def render(speed: dict, agree: dict[str, dict[str, CalibrationReport]]) -> str:
    lines = [
        "## Rubric marker",
        "",
        "Script: `benchmarks/bench_rubric.py` (`--write-readme` rewrites this section). Agreement is between the",
        "marker and one hand marker (the rubric engineer) on the write-ups in `tests/calibration/`; hand marks",
        "were decided from the rubric descriptors before the marker was run on each file and never edited",
        "to match it. The **development** set was used to tune the marker's rules, so its figures are",
        "optimistic; **held-out 1** was first run untuned (first-run figures in",
        "`rubric_calibration_heldout_first_run.txt`) and then also used to fix rules; **held-out 2** was",
        "written after all tuning and never tuned on: it is the honest estimate, but small.",
        "The pre-tuning run on the development set is in `rubric_calibration_before_tuning.txt`.",
        "",
        "First runs, before any rule was changed in their light (QWK, total score / mean of criteria):",
        "development set before tuning: aims 0.95 / 0.86, PDSA 0.84 / 0.70, capstone 0.97 / 0.84;",
        "held-out 1 on its first run: aims 0.75 / 0.67, PDSA 0.87 / 0.68, capstone 0.98 / 0.90.",
        "So on writing it has never seen the marker has met the targets for reports but fallen short on",
        "aims once (new phrasings such as \"9 out of 10\" were not parsed); expect per-criterion kappa",
        "around 0.7-0.9 on new cohorts, and treat every mark as provisional.",
        "",
        "| benchmark | target | measured | script |",
        "|---|---|---|---|",
        f"| mark {speed['n']} capstone reports (in process) | < 30 s | {speed['cohort_s']:.2f} s "
        f"({speed['per_report_ms']:.1f} ms per report) | `bench_rubric.py` |",
        f"| one {speed['long_words']:,}-word answer, slowest rubric | no crash, a few s | {speed['long_s']:.2f} s | "
        f"`bench_rubric.py` |",
        f"| worst of {9 * 3} hostile answers (200,000 digits, 100,000 blank lines, 30,000 headings ...) | < 5 s | "
        f"{speed['hostile_s']:.2f} s | `bench_rubric.py` |",
    ]
    for rid, reports in agree.items():
        pooled = reports["pooled"]
        if rid in SMALL:
            lines.append(f"| QWK, `{rid}` (n={pooled.n_items}, never tuned on): total score / mean of criteria | "
                         f">= 0.7 | {_fmt(pooled.total_qwk)} / {_fmt(pooled.mean_qwk)} | `bench_rubric.py` |")
            continue
        h2 = reports["held-out 2 (never tuned on)"]
        lines.append(f"| QWK, `{rid}`, held-out 2 (n={h2.n_items}): total score / mean of criteria | >= {TARGET[rid]} | "
                     f"{_fmt(h2.total_qwk)} / {_fmt(h2.mean_qwk)} | `bench_rubric.py` |")
        lines.append(f"| QWK, `{rid}`, all pooled (n={pooled.n_items}): total score / mean / lowest criterion | "
                     f">= {TARGET[rid]} | {_fmt(pooled.total_qwk)} / {_fmt(pooled.mean_qwk)} / "
                     f"{_fmt(min(r['qwk'] for r in pooled.rows if r['qwk'] is not None))} | `bench_rubric.py` |")
    for rid, reports in agree.items():
        if rid in SMALL:
            continue
        names = list(reports)
        lines += ["", f"### `{rid}`: agreement per criterion (exact / QWK)", "",
                  "| criterion | " + " | ".join(f"{n} (n={reports[n].n_items})" for n in names) + " |",
                  "|---|" + "---|" * len(names)]
        for i, row in enumerate(reports["pooled"].rows):
            cells = [f"{reports[n].rows[i]['exact']:.2f} / {_fmt(reports[n].rows[i]['qwk'])}" for n in names]
            lines.append(f"| {row['criterion']} | " + " | ".join(cells) + " |")
        lines.append("| **total score** | " + " | ".join(
            f"{reports[n].total_exact:.2f} / {_fmt(reports[n].total_qwk)}" for n in names) + " |")
        dis = reports["pooled"].disagreements
        lines += ["", f"Disagreements ({len(dis)} of {reports['pooled'].n_items * len(reports['pooled'].rows)} "
                      "criterion marks, all sets):", ""]
        for d in dis:
            lines.append(f"- {d['item']} `{d['criterion']}`: hand {d['hand']}, marker {d['marker']} "
                         f"(hand: {d['justification']})")
    lines += ["", "### Rubrics for the module 2 and 4 write-ups (one criterion per point)", "",
              "Each has one small calibration file, hand-marked before the marker was first run on it and not "
              "tuned on; the same person wrote the keyword lists and the write-ups, which flatters agreement.", "",
              "| rubric | criterion | exact | QWK |", "|---|---|---|---|"]
    for rid in SMALL:
        rep = agree[rid]["pooled"]
        for row in rep.rows:
            lines.append(f"| `{rid}` | {row['criterion']} | {row['exact']:.2f} | {_fmt(row['qwk'])} |")
        for d in rep.disagreements:
            lines.append(f"| `{rid}` | disagreement: {d['item']} `{d['criterion']}` | hand {d['hand']} | "
                         f"marker {d['marker']} |")
    return "\n".join(lines) + "\n"


def corpus_files(directory: Path, split: str) -> list[Path]:
    """The corpus files of `split`: `*_<split>.yaml` and its later batches `*_<split>2.yaml`, `*_<split>3.yaml`, ...
    (not another split whose name starts the same way)."""
    pattern = re.compile(rf"[a-z0-9]+_{re.escape(split)}\d*\.yaml")
    return sorted(f for f in directory.glob("*.yaml") if pattern.fullmatch(f.name))


def published(directory: Path, split: str) -> tuple[str, bool]:
    """Agreement on the published corpus files of `split` (`corpus_files`): the report and whether targets are met."""
    files = corpus_files(directory, split)
    if not files:
        raise SystemExit(f"no corpus files matching *_{split}.yaml in {directory}")
    lines = [f"## Published corpus ({split}: {', '.join(f.name for f in files)})", ""]
    ok = True
    for f in files:
        r = evaluate_published(f)
        lines += [f"### {f.name} (rubric `{r['rubric']}`, n={r['n']})", ""]
        if "smart" in r:
            sm = r["smart"]
            lines += ["| SMART element | agreement (target >= 0.95) |", "|---|---|"]
            lines += [f"| {e} | {_fmt(v)} |" for e, v in sm["elements"].items()]
            lines += [f"| **verdict (is_smart vs label)** | {_fmt(sm['verdict'])} |", ""]
            ok &= all(v is None or v >= 0.95 for v in sm["elements"].values())
            lines += [f"- {m}" for m in sm["misses"]] + ([""] if sm["misses"] else [])
        if "sections" in r:
            se = r["sections"]
            lines += [f"Sections: recall {_fmt(se['recall'])}, precision {_fmt(se['precision'])} (target >= 0.9 each)", ""]
            ok &= (se["recall"] or 0) >= 0.9 and (se["precision"] or 0) >= 0.9
            lines += [f"- {m}" for m in se["misses"]] + ([""] if se["misses"] else [])
        for rid, mk in ([(r["rubric"], r["marks"])] if "marks" in r else []) + list(r.get("marks_by_rubric", {}).items()):
            lines += [f"Marks, rubric `{rid}` (n={mk['n']}):", ""]
            lines += ["| criterion | exact | QWK |", "|---|---|---|"]
            lines += [f"| {cid} | {_fmt(v['exact'])} | {_fmt(v['qwk'])} |" for cid, v in mk["criteria"].items()]
            lines += [f"| **total score** | {_fmt(mk['total_exact'])} | {_fmt(mk['total_qwk'])} |", ""]
            ok &= all(v["qwk"] is None or v["qwk"] >= 0.8 for v in mk["criteria"].values())
            far = [d for d in mk["distance"] if abs(d["distance"]) > 3]
            lines.append(f"Items more than 3 points from the expert's total: {len(far)} of {len(mk['distance'])}")
            lines += [f"- {d['item']} ({d['stratum']}): expert {d['expert']:g}, marker {d['marker']:g}" for d in far]
            lines.append(f"Top level stated without doubt where the expert marks lower: {len(mk['overclaimed'])}")
            lines += [f"- {o}" for o in mk["overclaimed"]]
            lines.append("")
            ok &= not far
    return "\n".join(lines) + "\n", ok


def write_readme(section: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else (
        "# Benchmarks\n\nSpeed and calibration targets live here, not in timed unit tests.\n\n## Results\n\n"
        "| benchmark | target | measured | script |\n|---|---|---|---|\n")
    pattern = re.compile(r"^## Rubric marker\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write-readme", action="store_true", help="rewrite the Rubric marker section of README.md")
    ap.add_argument("-n", type=int, default=300, help="number of capstone reports to mark (default 300)")
    ap.add_argument("--published", type=Path, metavar="DIR", help="also measure agreement on the published corpus in DIR")
    ap.add_argument("--split", default="dev", help="corpus split to read (files *_<split>.yaml; default dev)")
    ap.add_argument("--only-published", action="store_true", help="with --published: skip speed and calibration")
    args = ap.parse_args(argv)
    if args.published is not None and not args.published.is_dir():
        ap.error(f"--published: {args.published} is not a folder")
    if args.only_published:
        if args.published is None:
            ap.error("--only-published needs --published DIR")
        text, pub_ok = published(args.published, args.split)
        print(text)
        return 0 if pub_ok else 1
    speed = bench_speed(args.n)
    agree = agreement()
    section = render(speed, agree)
    print(section)
    if args.write_readme:
        write_readme(section)
        print(f"(written to {README})")
    ok = speed["cohort_s"] < 30 * args.n / 300 and speed["hostile_s"] < 5
    for rid, reports in agree.items():
        target = TARGET.get(rid, 0.7)
        ok &= (reports["pooled"].total_qwk or 0) >= target and (reports["pooled"].mean_qwk or 0) >= target
    if args.published is not None:
        text, pub_ok = published(args.published, args.split)
        print(text)
        ok &= pub_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
