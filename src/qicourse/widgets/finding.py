"""Explorers for modules 1 and 2: what kind of project this is (QI, audit, research, service
evaluation), a Pareto explorer of incident reports and a coding-frame explorer for free-text
feedback.

Each builder returns an ipywidgets container whose controls redraw through `observe` callbacks,
and draws its first state at once, so the explorer also shows something when a notebook runs
headless (nbclient) or is viewed without a kernel.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd

from qicourse.tools.problem import (
    apply_coding_frame,
    frame_agreement,
    pareto_table,
    plot_pareto,
)

ALL = "All wards"


def _harm_options(harm: pd.Series) -> list[str]:
    levels = list(harm.cat.categories) if isinstance(harm.dtype, pd.CategoricalDtype) \
        else sorted(harm.dropna().astype(str).unique())
    return [str(level) for level in levels]


def filter_incidents(incidents: pd.DataFrame, ward: str = ALL, lowest_harm: str | None = None) -> pd.DataFrame:
    """Incident reports on `ward` (or all wards) graded `lowest_harm` or worse (harm is ordered)."""
    missing = {"ward", "category", "harm"} - set(incidents.columns)
    if missing:
        raise ValueError(f"incidents needs columns ward, category and harm (missing {sorted(missing)})")
    chosen = incidents
    if ward != ALL:
        chosen = chosen[chosen["ward"].astype(str) == ward]
    if lowest_harm is not None:
        levels = _harm_options(incidents["harm"])
        if lowest_harm not in levels:
            raise ValueError(f"unknown harm level {lowest_harm!r} (levels: {levels})")
        keep = levels[levels.index(lowest_harm):]
        chosen = chosen[chosen["harm"].astype(str).isin(keep)]
    return chosen


def pareto_explorer(incidents: pd.DataFrame, threshold: float = 80.0) -> widgets.VBox:
    """Pick a ward and the lowest harm level; see the Pareto chart of incident categories.

    Teaches that the "vital few" depend on where you look and which harm you count: falls
    dominate on a care-of-the-elderly ward, and the categories that cause moderate harm are
    not the ones reported most often.
    """
    levels = _harm_options(incidents["harm"])
    wards = [ALL] + sorted(incidents["ward"].astype(str).unique())
    ward = widgets.Dropdown(options=wards, value=ALL, description="Ward")
    harm = widgets.Dropdown(options=levels, value=levels[0], description="Harm ≥")
    summary = widgets.HTML()
    out = widgets.Output()

    def redraw(_=None):
        chosen = filter_incidents(incidents, ward.value, harm.value)
        out.clear_output(wait=True)
        with out:
            if chosen.empty:
                summary.value = "<i>No incident reports match: choose a lower harm level.</i>"
                return
            table = pareto_table(chosen, category="category", threshold=threshold)
            vital = table.loc[table["vital_few"], "category"].tolist()
            summary.value = (
                f"<b>{len(chosen)}</b> reports in {table.shape[0]} categories. "
                f"<b>{len(vital)}</b> categories make up {threshold:g}% of them: "
                + html.escape(", ".join(vital))
            )
            _, ax = plt.subplots(figsize=(9, 4.2))
            plot_pareto(table, ax=ax, threshold=threshold,
                        title=f"Incident reports by category: {ward.value}, harm {harm.value} or worse",
                        xlab="Incident category", ylab="Incident reports (number)")
            plt.tight_layout()
            plt.show()

    ward.observe(redraw, names="value")
    harm.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([ward, harm]), summary, out])


def _quote_list(texts: Sequence[str], limit: int) -> str:
    if not len(texts):
        return "<i>none</i>"
    items = "".join(f"<li>{html.escape(str(t))}</li>" for t in list(texts)[:limit])
    return f"<ul style='margin-top:0'>{items}</ul>"


def coding_frame_report(comments: pd.Series, theme: str, keywords: Sequence[str],
                        truth: pd.Series | None = None, examples: int = 3) -> str:
    """HTML: how many comments the keywords catch, examples, and (with true labels) precision,
    recall, and examples of comments missed and caught wrongly."""
    words = [k for k in keywords if str(k).strip()]
    if not words:
        return "<i>Type at least one keyword (comma-separated; end a word with * to catch endings).</i>"
    coded = apply_coding_frame(comments, {theme: words})[theme]
    text = comments.astype("object").where(comments.notna(), "").astype(str)
    parts = [f"<b>{int(coded.sum())}</b> of {len(comments)} comments caught "
             f"({100 * coded.mean():.0f}%) by: <code>{html.escape(', '.join(words))}</code>",
             "<b>Caught, for example:</b>" + _quote_list(text[coded].tolist(), examples)]
    if truth is not None:
        agree = frame_agreement(coded.to_frame(theme), truth.astype(bool).to_frame(theme)).iloc[0]
        prec, rec = agree["precision"], agree["recall"]
        parts.insert(1, "Against the true themes: precision "
                     f"<b>{'n/a' if pd.isna(prec) else f'{100 * prec:.0f}%'}</b> (of those caught, share "
                     f"really about the theme), recall <b>{'n/a' if pd.isna(rec) else f'{100 * rec:.0f}%'}"
                     "</b> (of those about the theme, share caught).")
        missed = text[truth.astype(bool) & ~coded].tolist()
        wrong = text[~truth.astype(bool) & coded].tolist()
        parts.append(f"<b>Missed ({len(missed)}), for example:</b>" + _quote_list(missed, examples))
        parts.append(f"<b>Caught but not about the theme ({len(wrong)}), for example:</b>"
                     + _quote_list(wrong, examples))
    return "<br>".join(parts)


def coding_frame_explorer(comments: pd.Series, frame: Mapping[str, Sequence[str]],
                          truth: pd.DataFrame | None = None, examples: int = 3) -> widgets.VBox:
    """Choose a theme, edit its keywords and see which comments they catch (and, given the true
    themes as a True/False table with one column per theme, which they miss or catch wrongly).

    Teaches the limits of keyword coding: synonyms missed ("slept", "rest"), words that mean
    something else in context ("buzzer" when waiting for help), and negation.
    """
    if not isinstance(frame, Mapping) or not frame:
        raise ValueError("coding_frame_explorer: give a non-empty dict of theme -> keywords")
    themes = list(frame)
    theme = widgets.Dropdown(options=themes, value=themes[0], description="Theme")
    box = widgets.Text(value=", ".join(frame[themes[0]]), description="Keywords",
                       layout=widgets.Layout(width="640px"), continuous_update=False)
    report = widgets.HTML()
    edited = {t: list(frame[t]) for t in themes}

    def show(_=None):
        t = theme.value
        truth_col = truth[t] if truth is not None and t in truth.columns else None
        report.value = coding_frame_report(comments, t, edited[t], truth_col, examples)

    def on_theme(change):
        box.value = ", ".join(edited[change["new"]])  # triggers on_keywords, which redraws
        show()

    def on_keywords(change):
        edited[theme.value] = [k.strip() for k in change["new"].split(",") if k.strip()]
        show()

    theme.observe(on_theme, names="value")
    box.observe(on_keywords, names="value")
    show()
    return widgets.VBox([theme, box, report])


# The decision is the lesson's teaching and the exercise asks learners to write it themselves, so
# it lives here (not in qicourse.tools) and the lesson shows it as questions, not code.
_PROJECT_QUESTIONS = {
    "randomised": "Participants are randomised to different groups",
    "changes_care_beyond_standard": "The protocol changes care beyond accepted standards",
    "generalisable": "The findings are meant to be generalisable",
    "tests_changes_over_time": "Changes are tested in cycles and measured over time",
    "compares_with_standard": "Practice is compared with a standard",
}
_PROJECT_VERDICTS = {
    "research": "Research: needs research ethics committee review through the HRA, and NHS R&D "
                "approval, before it starts.",
    "QI": "Quality improvement: register it with the trust's QI or governance team; no research "
          "ethics review, but information governance still applies.",
    "audit": "Clinical audit: register it with the clinical audit team. Repeating it (re-audit) "
             "keeps it audit; it does not make it QI.",
    "service evaluation": "Service evaluation: describes how well a service is doing, for a local "
                          "decision; local approval only.",
}


def _project_kind(randomised, changes_care_beyond_standard, generalisable,
                  tests_changes_over_time, compares_with_standard) -> str:
    if randomised or changes_care_beyond_standard or generalisable:  # HRA decision tool questions
        return "research"
    if tests_changes_over_time:
        return "QI"
    if compares_with_standard:
        return "audit"
    return "service evaluation"


def project_type_explorer(**ticked: bool) -> widgets.VBox:
    """Tick what is true of a project and read whether it is QI, audit, research or service
    evaluation, and what approval it needs. Keyword arguments set the first state."""
    unknown = set(ticked) - set(_PROJECT_QUESTIONS)
    if unknown:
        raise ValueError(f"project_type_explorer: unknown features {sorted(unknown)} "
                         f"(choose from {list(_PROJECT_QUESTIONS)})")
    boxes = {k: widgets.Checkbox(description=text, value=bool(ticked.get(k, False)), indent=False,
                                 layout=widgets.Layout(width="480px"))
             for k, text in _PROJECT_QUESTIONS.items()}
    verdict = widgets.HTML()

    def update(_=None):
        kind = _project_kind(**{k: b.value for k, b in boxes.items()})
        verdict.value = f"<b>{kind.upper()}</b> &mdash; {html.escape(_PROJECT_VERDICTS[kind])}"

    for b in boxes.values():
        b.observe(update, names="value")
    update()
    return widgets.VBox([*boxes.values(), verdict])
