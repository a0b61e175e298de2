"""Write the datasets from their recipes, and check the committed files against a fresh build.

Output is byte-for-byte deterministic: values are formatted before writing (ISO dates, integer
counts, True/False), lines end in "\\n", JSON is sorted by the generator's own order, and
nothing records when or where it was built.
"""

from __future__ import annotations

import filecmp
import json
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from ..paths import datasets_dir, repo_root
from . import generators
from .schema import DATASETS, WARDS


def recipes_dir() -> Path:
    """`recipes/` beside the datasets in use, else the repository's."""
    here = datasets_dir() / "recipes"
    return here if here.is_dir() else repo_root() / "datasets" / "recipes"


def read_recipes(folder: Path | None = None) -> dict[str, dict]:
    folder = Path(folder) if folder else recipes_dir()
    recipes = {}
    for name in DATASETS:
        path = folder / f"{name}.yaml"
        if not path.is_file():
            raise FileNotFoundError(f"recipe for {name!r} not found: {path}")
        with open(path, encoding="utf-8") as fh:
            recipe = yaml.safe_load(fh)
        if not isinstance(recipe, dict) or recipe.get("name") != name:
            raise ValueError(f"{path}: not a recipe for {name!r} (expected a mapping with name: {name})")
        recipes[name] = recipe
    return recipes


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _write_json(obj: dict, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")


def build_all(out_dir: str | Path | None = None, recipes: str | Path | None = None) -> list[Path]:
    """Generate every dataset into `out_dir` (default: the datasets folder); return the files written.

    Writes `<name>.csv`, `<name>.truth.json` for each dataset and the data dictionary `README.md`.
    """
    out = Path(out_dir) if out_dir is not None else datasets_dir()
    out.mkdir(parents=True, exist_ok=True)
    generated = generators.generate_all(read_recipes(recipes))
    written = []
    for name in DATASETS:
        df, truth = generated[name]
        expected = [c.name for c in DATASETS[name].columns]
        if list(df.columns) != expected:
            raise ValueError(f"generator for {name!r} produced columns {list(df.columns)}, schema says {expected}")
        _write_csv(df, out / f"{name}.csv")
        _write_json(truth, out / f"{name}.truth.json")
        written += [out / f"{name}.csv", out / f"{name}.truth.json"]
    (out / "README.md").write_text(data_dictionary(generated), encoding="utf-8", newline="\n")
    written.append(out / "README.md")
    return written


def check(datasets: str | Path | None = None) -> list[str]:
    """Rebuild into a temporary folder and list the committed files that differ or are missing."""
    folder = Path(datasets) if datasets is not None else datasets_dir()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build_all(tmp, recipes=folder / "recipes" if (folder / "recipes").is_dir() else None)
        drift = []
        for path in fresh:
            committed = folder / path.name
            if not committed.is_file():
                drift.append(f"{path.name}: missing")
            elif not filecmp.cmp(path, committed, shallow=False):
                drift.append(f"{path.name}: differs from its recipe")
    return drift


# ----------------------------------------------------------------------------- data dictionary
def _period(name: str, df: pd.DataFrame) -> str:
    col = DATASETS[name].date_column
    if not col:
        return "n/a"
    values = df[col].str.slice(0, 10)
    return f"{values.min()} to {values.max()}"


def _effects(name: str, t: dict) -> list[str]:
    """Human-readable lines for the planted effects in a truth file."""
    if name == "falls":
        r = t["rate_per_1000_obd"]
        return [f"{t['intervention']['name']} from {t['intervention']['date']}: {t['intervention']['description']}",
                f"Falls rate {r['before']} per 1,000 occupied bed days before, {r['after']} after "
                f"(realised {t['realised']['before']['rate_per_1000_obd']:.2f} and "
                f"{t['realised']['after']['rate_per_1000_obd']:.2f}); stable (no trend) within each period.",
                "Harm split (each fall): " + ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in t["harm_split"].items()) + "."]
    if name == "sepsis":
        m = t["model"]
        lines = [f"Baseline median {m['baseline_median_minutes']} minutes (log-normal, sigma {m['sigma_log']}); "
                 f"inpatient triggers x{t['model']['route_factor']['Inpatient ward']}, each NEWS2 point above 5 "
                 f"about {abs(m['score_log_coefficient']):.0%} faster."]
        for c in t["pdsa_cycles"]:
            lines.append(f"PDSA {c['cycle']} ({c['date']}, {c['decision']}): {c['title']}. {c['description']} "
                         f"Effect: {c['effect']}.")
        lines.append(f"Inequity: needing an interpreter multiplies the time by {m['interpreter_factor']} throughout.")
        ld = t["planted_inequity"]["least_deprived_first"]
        lines.append("Inequity: least deprived first. Share of each cycle's effect by IMD quintile "
                     + ", ".join(f"{q}: {s}" for q, s in ld["share_of_effect_by_imd_quintile"].items())
                     + "; delay in days " + ", ".join(f"{q}: {d}" for q, d in ld["lag_days_by_imd_quintile"].items())
                     + ". Expected median after all cycles (ED, NEWS2 5, no interpreter): "
                     + ", ".join(f"Q{q} {v} min" for q, v in
                                 t["expected_median_minutes_reference_patient"]["after_all_cycles_by_imd_quintile"].items())
                     + ".")
        return lines
    if name == "vte":
        c = t["completion"]
        return [f"{t['intervention']['name']} from {t['intervention']['date']}: {t['intervention']['description']}",
                f"Completion {c['before']:.0%} before, {c['after']:.0%} after (realised "
                f"{t['realised']['before']['completion']:.1%} and {t['realised']['after']['completion']:.1%}); "
                f"national expectation {t['national_expectation']:.0%}."]
    if name == "discharges":
        b, r = t["before_noon_share"], t["readmitted_30d_share"]
        return [f"{t['intervention']['name']} from {t['intervention']['date']}: {t['intervention']['description']}",
                f"Discharged before noon {b['before']:.0%} before, {b['after']:.0%} after.",
                f"Length of stay log-normal, median {t['length_of_stay']['median_days']} days at age 60-69, "
                f"longer with age, x{t['length_of_stay']['length_of_stay_factor_after']} after the intervention.",
                f"Balancing measure: readmission within 30 days {r['before']:.1%} before, {r['after']:.1%} after."]
    if name == "incidents":
        return [f"Pareto: the top three categories ({', '.join(t['pareto']['top_3_categories'])}) make up "
                f"{t['pareto']['top_3_share']:.0%} of reports.",
                "Falls and pressure ulcers cluster on Rowan (care of the elderly); violence and aggression in ED."]
    if name == "news2":
        iv = t["intervention"]
        return ["On time by ward: " + ", ".join(f"{w} {p:.0%}" for w, p in t["on_time_by_ward"].items()) + ".",
                f"{iv['ward']}: {iv['name']} from {iv['date']} ({iv['description']}) raises on time from "
                f"{iv['on_time_before']:.0%} to {iv['on_time_after']:.0%}.",
                *[f"Special cause {d['date']}: {d['description']} On time about {d['on_time']:.0%} on every ward."
                  for d in t["special_cause_days"]]]
    if name == "feedback":
        return [f"{len(t['themes'])} themes, kept hidden so learners can find them: their names, each "
                "comment's themes and sentiment, and the theme mix by source are in feedback.truth.json only.",
                f"{t['realised']['two_theme_comments']} of {t['realised']['comments']} comments carry two themes; "
                "patient and staff comments differ in their theme mix; one ward has an over-represented theme."]
    if name == "patients":
        r = t["realised"]
        return [f"Interpreter needed for {r['interpreter_needed_share']:.1%} of patients; IMD quintile shares "
                + ", ".join(f"Q{q} {s:.0%}" for q, s in r["imd_quintile_share"].items()) + ".",
                "Minority ethnic groups live more often in deprived areas and need an interpreter more often; "
                "older patients are more often White. The planted inequities are in the sepsis times."]
    return []


# Ranges a reader can rely on; each is asserted by tests/test_data_effects.py.
PLAUSIBLE = {
    "falls": ["monthly falls rate 2-10 per 1,000 OBD in at least three months in four, every month "
              "within 0-16 (Poisson noise on about 800 OBD a month); occupancy 80-100%",
              "harm levels add up to falls"],
    "sepsis": ["baseline median 60-120 minutes, right-skewed (mean above median)",
               "5-10 patients a week on average; every patient triggered (NEWS2 5+ or a red flag)",
               "antibiotics_time - trigger_time = minutes_to_antibiotics"],
    "vte": ["baseline completion 80-90%; assessed never exceeds admissions"],
    "discharges": ["length of stay median 4-6 days, right-skewed (skewness > 1), at least 1 day",
                   "discharge times 08:00-22:00; before-noon flag agrees with the time",
                   "readmission rise after the intervention under 5 percentage points"],
    "incidents": ["top three categories at least 55% of reports; no/low harm at least 90%; deaths under 1%",
                  "3-6 reports a day; falls most often on Rowan"],
    "news2": ["on time never exceeds due; the outage day under 60% on every ward"],
    "feedback": ["at least 90% of comments unique; every theme in 20+ comments, both favourable and "
                 "unfavourable; 15-40% of comments with two themes",
                 "FFT rating for every patient comment, none for staff; better ratings for positive comments"],
    "patients": ["interpreter needed 3-12%; IMD quintile 1 the most common; White 50-80%, Asian 10%+; "
                 "aged 70+ at least 35%; female 45-55%"],
}


def data_dictionary(generated: dict[str, tuple[pd.DataFrame, dict]]) -> str:
    """The text of `datasets/README.md`: every dataset, column, unit, meaning and planted effect."""
    out = [
        "# Synthetic ward datasets: data dictionary",
        "",
        "Generated by `qicourse datasets build` from the recipes in `recipes/` (seed + parameters); "
        "do not edit by hand. `qicourse datasets check` reports drift. Every figure is synthetic but "
        "chosen to be plausible for a UK acute trust. Load with `from qicourse.data import load`; "
        "the ground truth of each dataset (change dates, effect sizes, planted inequities) is in "
        "`<name>.truth.json` and `qicourse.data.truth(name)`.",
        "",
        "## Wards",
        "",
        "| ward | specialty |",
        "|---|---|",
        *[f"| {w} | {s} |" for w, s in WARDS.items()],
        "",
    ]
    for name, spec in DATASETS.items():
        df, t = generated[name]
        out += [f"## `{name}`: {spec.title}", "", spec.about, "",
                f"One row = {spec.row}. Rows: {len(df):,}. Period: {_period(name, df)}.", "",
                "| column | type | unit | meaning |", "|---|---|---|---|"]
        for c in spec.columns:
            kind = c.kind + (f" ({' < '.join(map(str, c.categories))})" if c.kind == "ordered" else "")
            out.append(f"| `{c.name}` | {kind} | {c.unit} | {c.meaning} |")
        out += ["", "Planted effects:", ""] + [f"- {line}" for line in _effects(name, t)]
        out += ["", "Plausible ranges (checked by the tests):", ""] + [f"- {line}" for line in PLAUSIBLE[name]] + [""]
    return "\n".join(out)
