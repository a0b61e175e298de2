"""Driver diagrams: a QI team's theory of change, from the aim to the ideas it will test.

A driver diagram reads left to right: the aim, the few big things that must change to reach it
(primary drivers), the parts of the system that influence each primary driver (secondary
drivers), and the concrete change ideas the team can test with PDSA cycles. (Provost L,
Bennett B. What's your theory? Driver diagram serves as tool for building and testing theories
for improvement. Qual Prog 2015;Jul:36-43.)

The diagram is kept as a plain dict, so learners can write one and tests can check it::

    {
        "aim": "Reduce the median time from sepsis trigger to antibiotics ...",
        "primary_drivers": ["Early recognition", "Rapid treatment"],
        "secondary_drivers": {"NEWS2 recorded on time": "Early recognition", ...},
        "change_ideas": {"Sepsis grab bag on every ward": ["Antibiotics at hand"], ...},
    }

`secondary_drivers` maps each secondary driver to the primary driver it influences;
`change_ideas` maps each change idea to the secondary driver (or list of them) it acts on.
Links point right-to-left so every item names its parent and nothing floats unattached.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

REQUIRED_KEYS = ("aim", "primary_drivers", "secondary_drivers", "change_ideas")


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _as_list(value: object) -> list:
    return [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else [value]


def driver_diagram_problems(diagram: object) -> list[str]:
    """Every structural problem in a driver diagram dict, as sentences (empty list = valid).

    Checks what makes a diagram a usable theory of change: one aim in words; at least one
    primary driver; every secondary driver linked to a named primary driver and every primary
    driver reached by at least one secondary driver; every change idea linked to at least one
    named secondary driver and every secondary driver with at least one change idea to test.
    """
    if not isinstance(diagram, Mapping):
        return [f"A driver diagram must be a dict, not {type(diagram).__name__}."]
    problems: list[str] = []
    missing = [k for k in REQUIRED_KEYS if k not in diagram]
    if missing:
        return [f"The driver diagram is missing the key(s): {', '.join(missing)}."]
    extra = sorted(set(diagram) - set(REQUIRED_KEYS))
    if extra:
        problems.append(f"Unknown key(s) {', '.join(map(str, extra))}: use only {', '.join(REQUIRED_KEYS)}.")

    aim = diagram["aim"]
    if not _is_text(aim):
        problems.append("The aim must be a non-empty sentence (a string).")

    primaries = diagram["primary_drivers"]
    if isinstance(primaries, str) or not isinstance(primaries, (list, tuple)):
        problems.append("primary_drivers must be a list of strings.")
        primaries = []
    bad = [p for p in primaries if not _is_text(p)]
    if bad:
        problems.append(f"Every primary driver must be a non-empty string; got {bad!r}.")
    primaries = [p for p in primaries if _is_text(p)]
    if not primaries:
        problems.append("A driver diagram needs at least one primary driver.")
    if len(set(primaries)) != len(primaries):
        problems.append("Primary drivers are repeated: name each one once.")

    secondaries = diagram["secondary_drivers"]
    if not isinstance(secondaries, Mapping):
        problems.append("secondary_drivers must be a dict {secondary driver: primary driver}.")
        secondaries = {}
    for sec, prim in secondaries.items():
        if not _is_text(sec):
            problems.append(f"Secondary driver names must be non-empty strings; got {sec!r}.")
        elif prim not in primaries:
            problems.append(f"Secondary driver {sec!r} points to {prim!r}, which is not a primary driver.")
    for prim in primaries:
        if prim not in secondaries.values():
            problems.append(f"Primary driver {prim!r} has no secondary driver: what influences it?")
    if not secondaries:
        problems.append("A driver diagram needs at least one secondary driver.")

    ideas = diagram["change_ideas"]
    if not isinstance(ideas, Mapping):
        problems.append("change_ideas must be a dict {change idea: secondary driver or list of them}.")
        ideas = {}
    linked: set[str] = set()
    for idea, targets in ideas.items():
        if not _is_text(idea):
            problems.append(f"Change ideas must be non-empty strings; got {idea!r}.")
            continue
        targets = _as_list(targets)
        if not targets:
            problems.append(f"Change idea {idea!r} is not linked to any secondary driver.")
        for t in targets:
            if t not in secondaries:
                problems.append(f"Change idea {idea!r} points to {t!r}, which is not a secondary driver.")
            else:
                linked.add(t)
    for sec in secondaries:
        if _is_text(sec) and sec not in linked:
            problems.append(f"Secondary driver {sec!r} has no change idea: what will you test?")
    if not ideas:
        problems.append("A driver diagram needs at least one change idea.")

    levels = [set(primaries), {s for s in secondaries if _is_text(s)}, {i for i in ideas if _is_text(i)}]
    clashes = sorted((levels[0] & levels[1]) | (levels[1] & levels[2]) | (levels[0] & levels[2]))
    if clashes:
        problems.append(f"The same text appears at two levels: {', '.join(map(repr, clashes))}.")
    return problems


def validate_driver_diagram(diagram: object) -> dict:
    """Return the diagram if it is valid; raise ValueError listing every problem otherwise."""
    problems = driver_diagram_problems(diagram)
    if problems:
        raise ValueError("Invalid driver diagram:\n- " + "\n- ".join(problems))
    return dict(diagram)  # type: ignore[arg-type]


def _box(ax, x: float, y: float, w: float, h: float, text: str, colour: str, width_chars: int,
         line_h: float = 0.0) -> None:
    """A rounded box with wrapped text, at least tall enough for its lines (`line_h` per line, axes units)."""
    wrapped = textwrap.fill(text, width_chars)
    h = max(h, (wrapped.count("\n") + 1) * line_h + 0.03)
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.01,rounding_size=0.015",
            facecolor=colour, edgecolor="#333333", linewidth=0.8,
        )
    )
    ax.text(x, y, wrapped, ha="center", va="center", fontsize=8)


def driver_diagram_figure(diagram: Mapping, title: str | None = None) -> Figure:
    """Draw a valid driver diagram as four columns joined by lines: aim, primary, secondary, ideas.

    Rows are laid out so each change idea sits beside its (first) secondary driver and each
    secondary driver beside its primary driver; lines show every link, including change ideas
    that act on more than one secondary driver.
    """
    d = validate_driver_diagram(diagram)
    primaries: list[str] = list(d["primary_drivers"])
    secondaries: dict[str, str] = dict(d["secondary_drivers"])
    ideas = {k: _as_list(v) for k, v in d["change_ideas"].items()}

    # Order secondaries by their primary, ideas by their first secondary.
    sec_order = [s for p in primaries for s in secondaries if secondaries[s] == p]
    idea_order = [i for s in sec_order for i in ideas if ideas[i][0] == s]
    n_rows = max(len(idea_order), len(sec_order), len(primaries), 1)

    def spread(n: int) -> list[float]:
        return [1 - (k + 0.5) / n for k in range(n)] if n else []

    y_idea = dict(zip(idea_order, spread(len(idea_order))))
    # Each secondary sits at the mean height of its ideas; each primary at the mean of its secondaries.
    y_sec = {s: sum(y_idea[i] for i in idea_order if ideas[i][0] == s) / max(1, sum(ideas[i][0] == s for i in idea_order))
             for s in sec_order}
    y_prim = {p: sum(y_sec[s] for s in sec_order if secondaries[s] == p) / sum(secondaries[s] == p for s in sec_order)
              for p in primaries}

    height = max(3.5, 0.55 * n_rows + 1.0)
    fig, ax = plt.subplots(figsize=(12, height))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.06)
    ax.axis("off")
    xs = {"aim": 0.1, "prim": 0.36, "sec": 0.62, "idea": 0.87}
    w = {"aim": 0.17, "prim": 0.19, "sec": 0.19, "idea": 0.22}
    h = min(0.8 / n_rows, 0.16)
    line = dict(color="#555555", linewidth=0.8, zorder=0)

    for p in primaries:
        ax.plot([xs["aim"] + w["aim"] / 2, xs["prim"] - w["prim"] / 2], [0.5, y_prim[p]], **line)
    for s in sec_order:
        ax.plot([xs["prim"] + w["prim"] / 2, xs["sec"] - w["sec"] / 2], [y_prim[secondaries[s]], y_sec[s]], **line)
    for i in idea_order:
        for s in ideas[i]:
            ax.plot([xs["sec"] + w["sec"] / 2, xs["idea"] - w["idea"] / 2], [y_sec[s], y_idea[i]], **line)

    line_h = 8 * 1.25 / 72 / (height * 0.9)  # one line of 8-pt text, in axes units
    _box(ax, xs["aim"], 0.5, w["aim"], max(h, 0.3), d["aim"], "#fde9c4", 26, line_h)
    for p in primaries:
        _box(ax, xs["prim"], y_prim[p], w["prim"], h * 0.85, p, "#cfe2f3", 28, line_h)
    for s in sec_order:
        _box(ax, xs["sec"], y_sec[s], w["sec"], h * 0.85, s, "#d9ead3", 28, line_h)
    for i in idea_order:
        _box(ax, xs["idea"], y_idea[i], w["idea"], h * 0.85, i, "#f4f4f4", 34, line_h)

    for key, label in [("aim", "Aim"), ("prim", "Primary drivers"), ("sec", "Secondary drivers"),
                       ("idea", "Change ideas (test with PDSA)")]:
        ax.text(xs[key], 1.03, label, ha="center", va="bottom", fontsize=10, fontweight="bold")
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig
