"""Tools for understanding a problem before changing anything (module 2).

Pareto tables and charts, cause-and-effect (fishbone) diagrams, process maps, five-whys chains,
keyword coding frames for free-text feedback, and stakeholder (power/interest) grids.

Calculation returns plain data (DataFrames, dataclasses); drawing is separate and optional, so
autograders and tests can inspect results without a figure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "FISHBONE_CATEGORIES",
    "pareto_table",
    "vital_few",
    "plot_pareto",
    "plot_fishbone",
    "ProcessStep",
    "process_steps",
    "plot_process_map",
    "WhyStep",
    "five_whys_problems",
    "compile_frame",
    "apply_coding_frame",
    "theme_counts",
    "representative_quotes",
    "frame_agreement",
    "stakeholder_grid",
    "plot_stakeholder_grid",
]

# The six bones used in the course (a healthcare version of Ishikawa's 6 Ms).
FISHBONE_CATEGORIES = ("People", "Process", "Equipment", "Environment", "Policies", "Patients")


# --------------------------------------------------------------------------------------------
# Pareto analysis
# --------------------------------------------------------------------------------------------
def _counts_from(data, category: str | None, count: str | None) -> pd.Series:
    """Turn raw observations or ready-made counts into a Series of counts indexed by category."""
    if isinstance(data, pd.DataFrame):
        if category is None:
            raise ValueError("pareto_table: give category= (the column naming each category)")
        if category not in data.columns:
            raise ValueError(f"pareto_table: no column {category!r} (columns: {list(data.columns)})")
        if count is None:
            counts = data[category].astype("object").value_counts(dropna=True)
        else:
            if count not in data.columns:
                raise ValueError(f"pareto_table: no column {count!r} (columns: {list(data.columns)})")
            counts = data.groupby(data[category].astype("object"), dropna=True)[count].sum()
    elif isinstance(data, Mapping):
        counts = pd.Series(dict(data), dtype="object")
    elif isinstance(data, pd.Series):
        numeric = pd.api.types.is_numeric_dtype(data) and not isinstance(data.dtype,
                                                                          pd.CategoricalDtype)
        if numeric and not data.index.equals(pd.RangeIndex(len(data))):
            counts = data  # counts indexed by category, e.g. from value_counts()
        else:
            counts = data.astype("object").value_counts(dropna=True)
    elif isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        counts = pd.Series(list(data), dtype="object").value_counts(dropna=True)
    else:
        raise TypeError(
            "pareto_table: expected a DataFrame with category=, a Series or list of categories, "
            f"or a dict of category -> count, got {type(data).__name__}"
        )
    try:
        counts = pd.to_numeric(pd.Series(counts.to_numpy(), index=counts.index.astype(str)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pareto_table: counts must be numbers ({exc})") from None
    if counts.isna().any():
        raise ValueError("pareto_table: counts contain missing values")
    if (counts < 0).any():
        bad = list(counts[counts < 0].index)
        raise ValueError(f"pareto_table: counts cannot be negative (categories {bad})")
    return counts


def pareto_table(data, category: str | None = None, count: str | None = None,
                 threshold: float = 80.0) -> pd.DataFrame:
    """Categories sorted from most to least frequent, with percentages and cumulative percentages.

    A Pareto analysis (Juran's "vital few and useful many") shows which few categories account for
    most of the events, so effort goes where it matters most. `data` may be a DataFrame (with
    `category=`, and optionally `count=` for a column of counts to add up), a Series or list of
    category labels (one per event), or a dict of category -> count (a numeric Series indexed by
    category, as `value_counts()` gives, also counts as counts).

    Ties are ordered alphabetically so the table is deterministic. Categories with zero count are
    kept (at the bottom). `vital_few` is True for the smallest set of top categories whose
    cumulative percentage reaches `threshold` (80 by default).
    """
    if not 0 < threshold <= 100:
        raise ValueError(f"pareto_table: threshold must be a percentage in (0, 100], got {threshold}")
    counts = _counts_from(data, category, count)
    if counts.empty:
        raise ValueError("pareto_table: no categories to analyse (empty input)")
    total = counts.sum()
    if total == 0:
        raise ValueError("pareto_table: all counts are zero, so there are no percentages to compute")
    table = pd.DataFrame({"category": counts.index.astype(str), "count": counts.to_numpy()})
    table = table.sort_values(["count", "category"], ascending=[False, True], kind="mergesort")
    table = table.reset_index(drop=True)
    table["percent"] = 100.0 * table["count"] / total
    table["cumulative_percent"] = table["percent"].cumsum()
    # Rounding noise must not push the last category to 99.999...; the total is 100 by definition.
    table.loc[table.index[-1], "cumulative_percent"] = 100.0
    reached = table["cumulative_percent"] >= threshold - 1e-9
    first = int(np.argmax(reached.to_numpy()))
    table["vital_few"] = table.index <= first
    return table


def vital_few(data, category: str | None = None, count: str | None = None,
              threshold: float = 80.0) -> list[str]:
    """The categories that together first reach `threshold` % of events (a Pareto table's top)."""
    if _is_pareto_table(data):
        data = dict(zip(data["category"], data["count"]))
    table = pareto_table(data, category, count, threshold)
    return list(table.loc[table["vital_few"], "category"])


def _is_pareto_table(data) -> bool:
    return isinstance(data, pd.DataFrame) and {"category", "count", "cumulative_percent",
                                               "vital_few"} <= set(data.columns)


def plot_pareto(table: pd.DataFrame, ax=None, title: str = "Pareto chart",
                xlab: str = "Category", ylab: str = "Number of events",
                threshold: float = 80.0):
    """Bars sorted by count, the cumulative percentage as a line on a right-hand axis (0-100 %),
    and a dashed reference line at `threshold` %. Returns the bar Axes (the line's axes is
    `ax.right_ax`)."""
    import matplotlib.pyplot as plt

    if not _is_pareto_table(table):
        table = pareto_table(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(table))
    colours = ["#005EB8" if v else "#A6A6A6" for v in table["vital_few"]]  # NHS blue / grey
    ax.bar(x, table["count"], color=colours)
    ax.set_xticks(x, table["category"], rotation=35, ha="right")
    ax.set_xlabel(xlab)
    ax.set_ylabel(ylab)
    ax.set_title(title)
    right = ax.twinx()
    right.plot(x, table["cumulative_percent"], color="#DA291C", marker="o", label="Cumulative %")
    right.axhline(threshold, color="#DA291C", linestyle="--", linewidth=1,
                  label=f"{threshold:g}% reference")
    right.set_ylim(0, 105)
    right.set_ylabel("Cumulative percentage of events (%)")
    right.legend(loc="center right", frameon=False)
    ax.right_ax = right
    return ax


# --------------------------------------------------------------------------------------------
# Fishbone (cause and effect) diagram
# --------------------------------------------------------------------------------------------
def plot_fishbone(causes: Mapping[str, Sequence[str]], effect: str, ax=None,
                  title: str | None = None):
    """Draw a cause-and-effect (Ishikawa) diagram: the effect at the head, one bone per category.

    `causes` maps category -> list of causes, e.g. {"Equipment": ["No sepsis trolley on ward"]}.
    The usual categories are `FISHBONE_CATEGORIES`; others are allowed (a team may need
    "Communication"). Returns the Axes.
    """
    import matplotlib.pyplot as plt

    if not isinstance(causes, Mapping) or not causes:
        raise ValueError("plot_fishbone: causes must be a non-empty dict of category -> list of causes")
    if not str(effect).strip():
        raise ValueError("plot_fishbone: the effect (the problem at the fish's head) is empty")
    for cat, items in causes.items():
        if isinstance(items, str) or not isinstance(items, Sequence):
            raise ValueError(f"plot_fishbone: causes for {cat!r} must be a list of strings")
    cats = list(causes)
    n_pairs = math.ceil(len(cats) / 2)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(9, 3.2 * n_pairs + 3), 5.5))
    spine_end = 3.2 * n_pairs + 0.5
    ax.plot([0, spine_end], [0, 0], color="black", linewidth=2.5)
    ax.text(spine_end + 0.1, 0, "\n".join(_wrap(effect, 22)), va="center", ha="left", fontsize=10,
            fontweight="bold", bbox=dict(boxstyle="round", facecolor="#FFF2CC", edgecolor="black"))
    for i, cat in enumerate(cats):
        col, up = divmod(i, 2)
        sign = 1 if up == 0 else -1
        x_join = 3.2 * (col + 1)
        x_top, y_top = x_join - 1.6, sign * 2.6
        ax.plot([x_top, x_join], [y_top, 0], color="#005EB8", linewidth=1.8)
        ax.text(x_top, y_top + sign * 0.25, cat, ha="center", va="bottom" if sign > 0 else "top",
                fontsize=10, fontweight="bold", color="#005EB8")
        items = list(causes[cat])
        for j, item in enumerate(items):
            frac = (j + 1) / (len(items) + 1)
            xb = x_top + frac * (x_join - x_top)
            yb = y_top + frac * (0 - y_top)
            ax.plot([xb - 0.9, xb], [yb, yb], color="grey", linewidth=0.8)
            ax.text(xb - 0.95, yb, "\n".join(_wrap(str(item), 26)), ha="right", va="center",
                    fontsize=7.5)
    ax.set_xlim(-1.5, spine_end + 3)
    ax.set_ylim(-3.4, 3.4)
    ax.axis("off")
    ax.set_title(title or f"Cause and effect diagram: {effect}")
    return ax


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = str(text).split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return lines + [line] if line else lines or [""]


# --------------------------------------------------------------------------------------------
# Process map
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcessStep:
    """One step of a process map."""

    label: str
    """what happens, e.g. "NEWS2 of 5 or more recorded"."""
    minutes: float | None = None
    """typical time from the previous step to this one (the wait is often where the delay is)."""
    kind: str = "step"
    """"start", "step", "decision" or "end" (drawn as different shapes)."""


_KINDS = ("start", "step", "decision", "end")


def process_steps(steps: Sequence) -> list[ProcessStep]:
    """Normalise a list of steps: strings, (label, minutes) tuples, dicts or ProcessStep objects.

    The first and last steps default to kind "start" and "end" unless given.
    """
    if isinstance(steps, str) or not isinstance(steps, Sequence) or len(steps) < 2:
        raise ValueError("process map: give a list of at least two steps")
    out: list[ProcessStep] = []
    for i, s in enumerate(steps):
        default_kind = "start" if i == 0 else "end" if i == len(steps) - 1 else "step"
        if isinstance(s, ProcessStep):
            step = s
        elif isinstance(s, str):
            step = ProcessStep(s, None, default_kind)
        elif isinstance(s, Mapping):
            if "label" not in s:
                raise ValueError(f"process map: step {i + 1} has no 'label'")
            step = ProcessStep(str(s["label"]), s.get("minutes"), s.get("kind", default_kind))
        elif isinstance(s, tuple) and len(s) == 2:
            step = ProcessStep(str(s[0]), s[1], default_kind)
        else:
            raise ValueError(f"process map: step {i + 1} must be a string, (label, minutes) or dict")
        if not step.label.strip():
            raise ValueError(f"process map: step {i + 1} has an empty label")
        if step.kind not in _KINDS:
            raise ValueError(f"process map: step {i + 1} kind must be one of {_KINDS}, got {step.kind!r}")
        if step.minutes is not None and (not isinstance(step.minutes, (int, float))
                                         or step.minutes < 0 or math.isnan(step.minutes)):
            raise ValueError(f"process map: step {i + 1} minutes must be a number >= 0")
        out.append(step)
    return out


def plot_process_map(steps: Sequence, ax=None, title: str = "Process map",
                     per_row: int = 4, highlight_over: float | None = None):
    """Draw a left-to-right flow of boxes joined by arrows, labelled with minutes between steps.

    Waits longer than `highlight_over` minutes are drawn in red: on a sepsis pathway that shows
    at a glance where the hour goes. The running total is shown under the last box.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Polygon

    steps = process_steps(steps)
    n_rows = math.ceil(len(steps) / per_row)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2 * min(per_row, len(steps)) + 0.5, 2.2 * n_rows + 0.6))
    w, h, gap_x, gap_y = 2.2, 1.0, 3.0, 2.2

    def pos(i):
        row, col = divmod(i, per_row)
        if row % 2 == 1:  # snake back so arrows stay short
            col = per_row - 1 - col
        return col * gap_x, -row * gap_y

    total = 0.0
    for i, s in enumerate(steps):
        x, y = pos(i)
        text = "\n".join(_wrap(s.label, 18))
        if s.kind == "decision":
            ax.add_patch(Polygon([(x, y + 0.65), (x + w / 2 + 0.15, y), (x, y - 0.65),
                                  (x - w / 2 - 0.15, y)], closed=True, facecolor="#FFF2CC",
                                 edgecolor="black"))
        else:
            face = "#D9E8F6" if s.kind == "step" else "#C8E6C9"
            style = "round,pad=0.05,rounding_size=0.45" if s.kind in ("start", "end") else \
                "square,pad=0.05"
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=style,
                                        facecolor=face, edgecolor="black"))
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5)
        if i > 0:
            px, py = pos(i - 1)
            slow = (s.minutes is not None and highlight_over is not None
                    and s.minutes > highlight_over)
            colour = "#DA291C" if slow else "black"
            if py == y:
                start = (px + np.sign(x - px) * (w / 2 + 0.15), py)
                end = (x - np.sign(x - px) * (w / 2 + 0.15), y)
            else:
                start, end = (px, py - h / 2 - 0.1), (x, y + h / 2 + 0.1)
            ax.annotate("", xy=end, xytext=start,
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=2 if slow else 1.2))
            if s.minutes is not None:
                total += s.minutes
                mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
                offset = dict(x=mx, y=my + 0.15, ha="center", va="bottom") if py == y else \
                    dict(x=mx + 0.15, y=my, ha="left", va="center")
                ax.text(s=f"{s.minutes:g} min", fontsize=8, color=colour,
                        fontweight="bold" if slow else "normal", **offset)
    lx, ly = pos(len(steps) - 1)
    if any(s.minutes is not None for s in steps):
        ax.text(lx, ly - h / 2 - 0.25, f"Total: {total:g} min", ha="center", va="top", fontsize=9,
                fontweight="bold")
    ax.set_xlim(-w, (min(per_row, len(steps)) - 1) * gap_x + w)
    ax.set_ylim(-(n_rows - 1) * gap_y - 1.4, 1.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# Five whys
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WhyStep:
    """One link in a five-whys chain: the question asked and the answer found."""

    why: str
    """e.g. "Why was the first dose given late?"."""
    because: str
    """e.g. "The prescription was not written until the registrar reviewed the patient"."""


_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from into onto than then that this these
    those is are was were be been being it its as not no do does did done so why what when who how
    which there their they them he she his her we our us you your i my me have has had can could
    would should will may might must about because until after before out up over under very just
    only also too more most less least any all some each every often""".split()
)

_BLAME = re.compile(r"\b(lazy|careless|forg[eo]t|incompeten\w*|(did|do|does)n'?t care|(did|do|does) not care|"
                    r"bad nurse|bad doctor|human error|stupid|useless|(cannot|can'?t|couldn'?t|could not) be bothered|"
                    r"not bothered|ignor(e|es|ed|ing) (the )?(call )?(bells?|buzzers?|patients?|alarms?)|"
                    r"poor attitude|unprofessional|not interested)\b", re.I)
_SOLUTION = re.compile(r"^\s*(we need|need(s)? (a|an|to|more)|there should be|should have|"
                       r"introduce|buy|implement|a new)\b", re.I)
# "There is no bed-exit alarm" names the fix the team already wants, not why the problem happens:
# the absence of a product, a form or a course is a solution in disguise (misconceptions.md).
_MISSING_FIX = re.compile(r"\b(no|lacks?|lack of|not enough|too few|without|(does|do|did)(n'?t| not) have)"
                          r"(\s+\S+){0,3}?\s+(alarms?|sensors?|proformas?|posters?|stickers?|signs?|"
                          r"signage|mats?|monitors?|cameras?|grab[- ]?bags?|apps?|software|leaflets?|"
                          r"training|teaching|education)\b", re.I)


def _content_words(text: str) -> set[str]:
    """Lower-case word stems (crude: strip common suffixes) without stop words."""
    words = re.findall(r"[a-z0-9]+", str(text).lower())
    stems = set()
    for w in words:
        if w in _STOPWORDS or len(w) < 3:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 4:
                w = w[: -len(suffix)]
                break
        stems.add(w)
    return stems


def _as_steps(chain) -> list[WhyStep]:
    if isinstance(chain, str) or not isinstance(chain, Sequence):
        raise ValueError("five whys: the chain must be a list of (why, because) pairs")
    steps = []
    for i, link in enumerate(chain):
        if isinstance(link, WhyStep):
            steps.append(link)
        elif isinstance(link, Mapping) and {"why", "because"} <= set(link):
            steps.append(WhyStep(str(link["why"]), str(link["because"])))
        elif isinstance(link, (tuple, list)) and len(link) == 2:
            steps.append(WhyStep(str(link[0]), str(link[1])))
        else:
            raise ValueError(f"five whys: link {i + 1} must be a (why, because) pair or a dict "
                             "with 'why' and 'because'")
    return steps


def five_whys_problems(problem: str, chain, min_links: int = 3) -> list[str]:
    """What is wrong with a five-whys chain (an empty list means it passes the checks).

    Checks, in plain words:
    - there is a problem statement and at least `min_links` links (five is a guide, not a law);
    - every link has a question and an answer, and no answer repeats an earlier one (a loop);
    - each "why" asks about the previous answer (the first about the problem): they must share
      at least one content word. This is a crude word-overlap test, a prompt to look again,
      not proof of a causal link;
    - the last answer is a cause, not a solution in disguise ("we need a new proforma") or a
      person to blame ("the nurse forgot"): systems, not individuals, are where QI acts.
    """
    issues: list[str] = []
    if not str(problem).strip():
        issues.append("The problem statement is empty: say what went wrong before asking why.")
    steps = _as_steps(chain)
    if len(steps) < min_links:
        issues.append(f"Only {len(steps)} why(s): keep asking until you reach a cause the team can "
                      f"act on (at least {min_links}).")
    seen: set[str] = set()
    previous = str(problem)
    for i, s in enumerate(steps, start=1):
        if not s.why.strip() or not s.because.strip():
            issues.append(f"Link {i} has an empty question or answer.")
            previous = s.because
            continue
        key = " ".join(sorted(_content_words(s.because)))
        if key and key in seen:
            issues.append(f"Link {i} repeats an earlier answer: the chain is going round in a circle.")
        seen.add(key)
        if previous.strip() and not (_content_words(s.why) & _content_words(previous)):
            what = "the problem" if i == 1 else f"the answer to why {i - 1}"
            issues.append(f"Why {i} does not ask about {what}: each why should follow from "
                          "the answer before it.")
        previous = s.because
    if steps:
        last = steps[-1].because
        if _SOLUTION.search(last):
            issues.append("The last answer is a solution in disguise: a root cause says what is "
                          "wrong in the system, not what to buy or introduce.")
        elif _MISSING_FIX.search(last):
            issues.append("The last answer is a solution in disguise: saying a product, form or course is "
                          "missing names the fix you already want. Ask why the problem happens without it.")
        if _BLAME.search(last):
            issues.append("The last answer blames a person: ask why the system let that happen.")
    return issues


# --------------------------------------------------------------------------------------------
# Coding frame for free-text comments
# --------------------------------------------------------------------------------------------
def compile_frame(frame: Mapping[str, Sequence[str]]) -> dict[str, re.Pattern]:
    """One case-insensitive regular expression per theme from its keywords.

    Keywords match whole words; a trailing `*` matches any ending ("nurs*" catches nurse,
    nurses, nursing). Phrases ("call bell") match with any spacing.
    """
    if not isinstance(frame, Mapping) or not frame:
        raise ValueError("coding frame: give a non-empty dict of theme -> list of keywords")
    compiled = {}
    for theme, keywords in frame.items():
        if isinstance(keywords, str) or not isinstance(keywords, (Sequence, set, frozenset)):
            raise ValueError(f"coding frame: keywords for {theme!r} must be a list of strings")
        parts = []
        for kw in keywords:
            kw = str(kw).strip().lower()
            if not kw or kw == "*":
                raise ValueError(f"coding frame: theme {theme!r} has an empty keyword")
            star = kw.endswith("*")
            words = kw.rstrip("*").split()
            body = r"\s+".join(re.escape(w) for w in words)
            parts.append(r"\b" + body + (r"\w*" if star else r"\b"))
        if not parts:
            raise ValueError(f"coding frame: theme {theme!r} has no keywords")
        compiled[str(theme)] = re.compile("|".join(parts), re.I)
    return compiled


def apply_coding_frame(comments, frame: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A True/False table: one row per comment, one column per theme (a comment can have several).

    Missing comments code as no theme. The index follows `comments` (a Series keeps its index).
    """
    patterns = compile_frame(frame)
    if isinstance(comments, str):
        raise ValueError("coding frame: comments must be a list or Series of texts, not one string")
    texts = comments if isinstance(comments, pd.Series) else pd.Series(list(comments), dtype="object")
    texts = texts.astype("object").where(texts.notna(), "").astype(str)
    return pd.DataFrame({t: texts.str.contains(p, regex=True) for t, p in patterns.items()},
                        index=texts.index, columns=list(patterns))


def theme_counts(coded: pd.DataFrame) -> pd.DataFrame:
    """Comments per theme and as a % of all comments, most common first; plus "(uncoded)"."""
    if not isinstance(coded, pd.DataFrame):
        raise ValueError("theme_counts: expected the table from apply_coding_frame")
    n = len(coded)
    counts = coded.sum().astype(int)
    counts["(uncoded)"] = int((~coded.any(axis=1)).sum()) if n else 0
    out = pd.DataFrame({"theme": counts.index, "comments": counts.to_numpy()})
    out["percent"] = 100.0 * out["comments"] / n if n else 0.0
    main = out[out["theme"] != "(uncoded)"].sort_values(["comments", "theme"],
                                                          ascending=[False, True], kind="mergesort")
    return pd.concat([main, out[out["theme"] == "(uncoded)"]]).reset_index(drop=True)


def representative_quotes(comments, coded: pd.DataFrame, theme: str, n: int = 3) -> list[str]:
    """Up to `n` comments coded to `theme`, preferring those that carry no other theme
    (clearest examples), then shorter ones (easier to quote in a report). A comment that
    contains, or is contained in, one already chosen is skipped (templated near-repeats)."""
    if theme not in coded.columns:
        raise ValueError(f"representative_quotes: no theme {theme!r} (themes: {list(coded.columns)})")
    texts = comments if isinstance(comments, pd.Series) else pd.Series(list(comments))
    hit = coded.index[coded[theme]]
    others = coded.loc[hit].drop(columns=[theme]).sum(axis=1)
    order = pd.DataFrame({"others": others, "length": texts.loc[hit].astype(str).str.len()})
    order = order.sort_values(["others", "length"], kind="mergesort")
    chosen: list[str] = []
    for i in order.index:
        text = str(texts.loc[i])
        key = " ".join(text.lower().split())
        if any(key in " ".join(c.lower().split()) or " ".join(c.lower().split()) in key
               for c in chosen):
            continue
        chosen.append(text)
        if len(chosen) == n:
            break
    return chosen


def frame_agreement(coded: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """How well a keyword frame finds each theme, against true themes coded by a person.

    `truth` is a True/False table with the same index and theme columns as `coded`. For each theme:
    true positives, false positives, false negatives, precision (of the comments the keywords
    caught, the share that really are about the theme) and recall (of the comments really about
    the theme, the share the keywords caught). NaN where a share has no denominator.
    """
    missing = [t for t in coded.columns if t not in truth.columns]
    if missing:
        raise ValueError(f"frame_agreement: no true labels for themes {missing}")
    if not coded.index.equals(truth.index):
        raise ValueError("frame_agreement: coded and truth must have the same rows (index)")
    rows = []
    for t in coded.columns:
        c, tr = coded[t].astype(bool), truth[t].astype(bool)
        tp, fp, fn = int((c & tr).sum()), int((c & ~tr).sum()), int((~c & tr).sum())
        rows.append({"theme": t, "true_positives": tp, "false_positives": fp,
                     "false_negatives": fn,
                     "precision": tp / (tp + fp) if tp + fp else float("nan"),
                     "recall": tp / (tp + fn) if tp + fn else float("nan")})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Stakeholders
# --------------------------------------------------------------------------------------------
_QUADRANTS = {(True, True): "Manage closely", (True, False): "Keep satisfied",
              (False, True): "Keep informed", (False, False): "Monitor"}


def stakeholder_grid(stakeholders: Mapping[str, tuple[float, float]],
                     midpoint: float = 5.0) -> pd.DataFrame:
    """Place stakeholders on a power/interest grid (Mendelow's matrix) scored 0-10.

    Returns name, power, interest and the usual strategy: manage closely (high power, high
    interest), keep satisfied (high power, low interest), keep informed (low power, high
    interest), monitor (low, low). A score equal to `midpoint` counts as high.
    """
    if not isinstance(stakeholders, Mapping) or not stakeholders:
        raise ValueError("stakeholder_grid: give a dict of name -> (power, interest)")
    rows = []
    for name, scores in stakeholders.items():
        try:
            power, interest = (float(v) for v in scores)
        except (TypeError, ValueError):
            raise ValueError(f"stakeholder_grid: {name!r} needs (power, interest) numbers") from None
        for label, v in (("power", power), ("interest", interest)):
            if not 0 <= v <= 10:
                raise ValueError(f"stakeholder_grid: {name!r} {label} must be 0-10, got {v:g}")
        rows.append({"stakeholder": str(name), "power": power, "interest": interest,
                     "strategy": _QUADRANTS[(power >= midpoint, interest >= midpoint)]})
    return pd.DataFrame(rows)


def plot_stakeholder_grid(grid: pd.DataFrame, ax=None, title: str = "Stakeholder map",
                          midpoint: float = 5.0):
    """Scatter the stakeholders on the power/interest grid with the four strategies labelled."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 6))
    ax.axhline(midpoint, color="grey", linewidth=1)
    ax.axvline(midpoint, color="grey", linewidth=1)
    for (hi_p, hi_i), label in _QUADRANTS.items():
        ax.text(7.5 if hi_i else 2.5, 9.6 if hi_p else 0.4, label, ha="center",
                va="top" if hi_p else "bottom", fontsize=10, color="#005EB8", fontweight="bold")
    ax.scatter(grid["interest"], grid["power"], color="#DA291C", zorder=3)
    for _, r in grid.iterrows():
        left = r["interest"] > 6.5  # label to the left near the right edge, so it stays inside
        ax.annotate(r["stakeholder"], (r["interest"], r["power"]), textcoords="offset points",
                    xytext=(-5, 4) if left else (5, 4), ha="right" if left else "left", fontsize=8)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_xlabel("Interest in the project (0-10)")
    ax.set_ylabel("Power over the project (0-10)")
    ax.set_title(title)
    return ax
