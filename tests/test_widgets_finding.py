"""Do the module 2 explorers draw a first state and react to their controls?"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from qicourse.widgets.finding import (  # noqa: E402
    coding_frame_explorer,
    coding_frame_report,
    filter_incidents,
    pareto_explorer,
)

HARM = pd.CategoricalDtype(["No harm", "Low", "Moderate", "Severe", "Death"], ordered=True)


@pytest.fixture
def incidents():
    rows = [("Rowan", "Falls", "Low")] * 6 + [("Rowan", "Pressure ulcers", "Moderate")] * 3 + \
        [("ED", "Violence", "No harm")] * 5 + [("ED", "Falls", "Severe")]
    df = pd.DataFrame(rows, columns=["ward", "category", "harm"])
    df["harm"] = df["harm"].astype(HARM)
    df["ward"] = df["ward"].astype("category")
    return df


def test_filter_incidents_by_ward_and_harm(incidents):
    """Does 'Moderate or worse' keep Moderate and Severe, and a ward filter keep only that ward?"""
    assert len(filter_incidents(incidents, lowest_harm="Moderate")) == 4
    assert set(filter_incidents(incidents, "ED")["category"]) == {"Violence", "Falls"}
    assert filter_incidents(incidents, "ED", "Moderate")["category"].tolist() == ["Falls"]
    with pytest.raises(ValueError, match="unknown harm level"):
        filter_incidents(incidents, lowest_harm="Catastrophic")
    with pytest.raises(ValueError, match="missing"):
        filter_incidents(incidents.drop(columns="harm"))


def test_pareto_explorer_updates_summary(incidents):
    """Does the summary name the vital few, and change when the ward and harm change?"""
    box = pareto_explorer(incidents)
    ward, harm = box.children[0].children
    summary = box.children[1]
    assert "<b>15</b> reports" in summary.value
    ward.value = "Rowan"
    assert "<b>9</b> reports" in summary.value and "Falls" in summary.value
    harm.value = "Moderate"
    assert "<b>3</b> reports" in summary.value and "Pressure ulcers" in summary.value
    ward.value = "ED"
    harm.value = "Death"
    assert "No incident reports match" in summary.value


COMMENTS = pd.Series(["Could not sleep for the noise", "Barely slept with the alarms",
                      "Pressed the buzzer and waited hours", "Lovely nurses"])
TRUTH = pd.DataFrame({"noise": [True, True, False, False], "waiting": [False, False, True, False]})


def test_coding_frame_report_counts_and_agreement():
    """Does the report count caught comments and give precision/recall against true themes?"""
    html = coding_frame_report(COMMENTS, "noise", ["sleep*", "noise", "buzzer"], TRUTH["noise"])
    assert "<b>2</b> of 4 comments caught" in html
    assert "precision <b>50%</b>" in html and "recall <b>50%</b>" in html
    assert "Barely slept" in html.split("Missed")[1]
    assert "Pressed the buzzer" in html.split("Caught but not about the theme")[1]
    assert "at least one keyword" in coding_frame_report(COMMENTS, "noise", [" "])


def test_coding_frame_explorer_reacts_to_keywords_and_theme():
    """Do edited keywords re-code the comments, and does switching theme keep each theme's edits?"""
    box = coding_frame_explorer(COMMENTS, {"noise": ["noise"], "waiting": ["wait*"]}, TRUTH)
    theme, keywords, report = box.children
    assert "recall <b>50%</b>" in report.value
    keywords.value = "noise, slept, alarm*"
    assert "recall <b>100%</b>" in report.value
    theme.value = "waiting"
    assert keywords.value == "wait*" and "<b>1</b> of 4" in report.value
    theme.value = "noise"
    assert keywords.value == "noise, slept, alarm*"
    with pytest.raises(ValueError, match="non-empty"):
        coding_frame_explorer(COMMENTS, {})


def test_project_type_explorer_follows_the_decision_order():
    """Does a re-audit read as audit, adding cycles make it QI, and generalisable make it research?"""
    from qicourse.widgets.finding import project_type_explorer

    box = project_type_explorer(compares_with_standard=True)
    *checks, verdict = box.children
    by_label = {c.description: c for c in checks}
    assert verdict.value.startswith("<b>AUDIT</b>")
    by_label["Changes are tested in cycles and measured over time"].value = True
    assert verdict.value.startswith("<b>QI</b>")
    by_label["The findings are meant to be generalisable"].value = True
    assert verdict.value.startswith("<b>RESEARCH</b>") and "ethics" in verdict.value
    for c in checks:
        c.value = False
    assert verdict.value.startswith("<b>SERVICE EVALUATION</b>")
    with pytest.raises(ValueError, match="unknown features"):
        project_type_explorer(blinded=True)
