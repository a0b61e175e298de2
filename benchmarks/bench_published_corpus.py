"""Agreement of the rubric marker with the blind corpus in tests/calibration/published/.

Runs the documented CLI (`qicourse mark --format json`) on every item, so it measures the marker
exactly as an educator meets it, and prints:

- aims: exact agreement per smart_aim criterion, and the SMART verdict (all criteria at the top
  level) against the hand verdict, with how many hand-SMART aims the marker recognised;
- adversarial write-ups: exact agreement per rubric, and the items the marker over-marks;
- abstracts: of the sections that start at a heading, how many the capstone marker read at that
  heading (a criterion's `section`); run-on abstracts have no headings and are skipped.

Details (item ids) are printed for the dev split only: whoever tunes the marker must not learn
the held-out items, so held-out results are aggregates.

    .venv/bin/python benchmarks/bench_published_corpus.py [--split dev|heldout|both] [--workers 2]
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "calibration" / "published"
# Facts the grading pipeline passes today (grader/rubrics/README.md); the corpus's equity_* keys are extra.
PIPELINE_FACTS = ("chart_signals", "chart_type")
TOP = {"direction": 1, "measure": 2, "target": 2, "time_frame": 2, "scope": 2, "outcome_focus": 1}


def qicourse():
    exe = Path(sys.executable).with_name("qicourse")
    found = str(exe) if exe.exists() else shutil.which("qicourse")
    if not found:
        raise SystemExit("qicourse is not installed in this environment: run `make .venv/.installed` first")
    return found


def mark(exe, text, rubric, facts=None):
    """Criterion id -> (level, section) from one CLI run."""
    with tempfile.NamedTemporaryFile("w", suffix=".md", encoding="utf-8", delete=False) as f:
        f.write(text)
        path = f.name
    cmd = [exe, "mark", path, "--rubric", rubric, "--format", "json"]
    if facts:
        cmd += ["--facts", json.dumps({k: v for k, v in facts.items() if k in PIPELINE_FACTS})]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        Path(path).unlink()
    try:
        result = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"qicourse mark gave no JSON for a {rubric} item: {out.stderr.strip().splitlines()[-1:]}")
    return {c["id"]: (c["level"], c["section"]) for c in result["criteria"]}


def is_heading(item, span):
    """A span that starts at a heading: a short line of its own, a 'Word:' label, a run-in heading or capitals."""
    text = item["text"]
    if not (text.startswith(span) or ("\n" + span) in text):
        return False
    line = text[text.index(span):].split("\n")[0]
    if line.lstrip().startswith(("✓", "•")):
        return False
    words = re.sub(r"[#*]", " ", line).split()
    return (len(words) <= 6 or re.match(r"^[\w/ &]+:", span) is not None or item["stratum"] == "runin"
            or (bool(words) and words[0].isupper() and len(words[0]) > 1))


def norm(heading):
    first = re.sub(r"[#*✓•:]", " ", heading.split("\n")[0])
    return re.sub(r"\s+", " ", first).strip().lower()


def pct(a, n):
    return f"{a}/{n} = {a / n:.2f}" if n else "n/a"


def load_items(kind, split):
    return yaml.safe_load((CORPUS / f"{kind}_{split}.yaml").read_text(encoding="utf-8"))["items"]


def run(split, exe, workers):
    aims, adversarial, abstracts = (load_items(kind, split) for kind in ("aims", "adversarial", "abstracts"))
    jobs = ([(it, "smart_aim", None) for it in aims] + [(it, it["rubric"], it.get("facts")) for it in adversarial]
            + [(it, "capstone", None) for it in abstracts])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        marks = list(pool.map(lambda job: mark(exe, job[0]["text"], job[1], job[2]), jobs))
    by_id = {job[0]["id"]: m for job, m in zip(jobs, marks)}
    detail = split == "dev"
    print(f"== {split}")

    agree = defaultdict(lambda: [0, 0])
    verdict, recognised, hand_smart = 0, 0, 0
    for it in aims:
        m = by_id[it["id"]]
        for crit, (level, _) in it["hand"].items():
            agree[crit][0] += m[crit][0] == level
            agree[crit][1] += 1
        # The corpus's verdict rule (README): SMART when every smart_aim criterion is at its top level.
        marker_smart = all(m[c][0] == t for c, t in TOP.items())
        hand_is_smart = it["smart"]["verdict"] == "SMART"
        verdict += marker_smart == hand_is_smart
        hand_smart += hand_is_smart
        recognised += hand_is_smart and marker_smart
    total = [sum(a for a, _ in agree.values()), sum(n for _, n in agree.values())]
    print(f"aims ({len(aims)}): exact agreement {pct(*total)};",
          ", ".join(f"{c} {pct(a, n)}" for c, (a, n) in agree.items()))
    print(f"  SMART verdict agreement {pct(verdict, len(aims))}; hand-SMART aims recognised {recognised}/{hand_smart}")

    per_rubric = defaultdict(lambda: [0, 0])
    over = defaultdict(list)
    for it in adversarial:
        m = by_id[it["id"]]
        for crit, (level, _) in it["hand"].items():
            per_rubric[it["rubric"]][0] += m[crit][0] == level
            per_rubric[it["rubric"]][1] += 1
        got, want = sum(m[c][0] for c in it["hand"]), sum(level for level, _ in it["hand"].values())
        if got > want:
            over[it["rubric"]].append(f"{it['id']} {got} vs {want}" if detail else "")
    for rubric, (a, n) in per_rubric.items():
        count = sum(it["rubric"] == rubric for it in adversarial)
        listed = f": {', '.join(over[rubric])}" if detail and over[rubric] else ""
        print(f"adversarial {rubric} ({count}): exact agreement {pct(a, n)}; marker total above hand on "
              f"{len(over[rubric])}/{count}{listed}")

    found, total_headings, misses = 0, 0, []
    for it in abstracts:
        if it["stratum"] == "runon":
            continue
        m = by_id[it["id"]]
        for section, spans in it["sections"].items():
            headings = [s for s in spans if is_heading(it, s)]
            if not headings:
                continue
            got = norm(m[section][1] or "")
            hit = bool(got) and any(norm(s).startswith(got) or got.startswith(norm(s)) for s in headings)
            found += hit
            total_headings += 1
            if not hit:
                misses.append(f"{it['id']}.{section} ({headings[0].splitlines()[0]!r} -> {m[section][1]!r})")
    print(f"abstracts: sections starting at a heading read at that heading {pct(found, total_headings)}")
    if detail and misses:
        print("  missed:", "; ".join(misses))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["dev", "heldout", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    exe = qicourse()
    for split in (["dev", "heldout"] if args.split == "both" else [args.split]):
        run(split, exe, args.workers)


if __name__ == "__main__":
    main()
