"""Unit tests for qicourse.tools.aims (driver diagrams) and qicourse.tools.measures."""

from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from qicourse.tools.aims import (  # noqa: E402
    driver_diagram_figure,
    driver_diagram_problems,
    validate_driver_diagram,
)
from qicourse.tools.measures import (  # noqa: E402
    OperationalDefinition,
    collection_plan,
    family_problems,
    rate_per,
    safety_cross_data,
    safety_cross_figure,
)

GOOD = {
    "aim": "Reduce the median time from sepsis trigger to antibiotics on AMU from 90 to 60 minutes by 31 July",
    "primary_drivers": ["Early recognition", "Rapid treatment"],
    "secondary_drivers": {
        "NEWS2 observations on time": "Early recognition",
        "Antibiotics at hand": "Rapid treatment",
        "Prescriber available": "Rapid treatment",
    },
    "change_ideas": {
        "e-obs overdue alert": "NEWS2 observations on time",
        "Sepsis grab bag on every ward": ["Antibiotics at hand"],
        "PGD for nurse-given first dose": ["Antibiotics at hand", "Prescriber available"],
    },
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- driver diagrams


def test_valid_diagram_has_no_problems_and_validates():
    assert driver_diagram_problems(GOOD) == []
    assert validate_driver_diagram(GOOD) == GOOD


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.pop("aim"), "missing the key(s): aim"),
        (lambda d: d.update(aim="  "), "aim must be a non-empty"),
        (lambda d: d.update(primary_drivers=[]), "at least one primary driver"),
        (lambda d: d.update(primary_drivers="Early recognition"), "must be a list"),
        (lambda d: d["secondary_drivers"].update({"Triage screening": "Staffing"}), "'Staffing', which is not a primary"),
        (lambda d: d["primary_drivers"].append("Culture"), "'Culture' has no secondary driver"),
        (lambda d: d["change_ideas"].update({"Huddle": "Teamwork"}), "'Teamwork', which is not a secondary"),
        (lambda d: d["change_ideas"].pop("e-obs overdue alert"), "'NEWS2 observations on time' has no change idea"),
        (lambda d: d["change_ideas"].update({"Huddle": []}), "not linked to any secondary driver"),
        (lambda d: d["change_ideas"].update({"Rapid treatment": "Antibiotics at hand"}), "two levels"),
        (lambda d: d["primary_drivers"].append("Early recognition"), "repeated"),
        (lambda d: d.update(owner="FY1"), "Unknown key"),
    ],
)
def test_each_structural_fault_is_named(mutate, fragment):
    d = copy.deepcopy(GOOD)
    mutate(d)
    problems = driver_diagram_problems(d)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(ValueError, match="Invalid driver diagram"):
        validate_driver_diagram(d)


def test_non_dict_is_a_problem_not_a_crash():
    assert "must be a dict" in driver_diagram_problems(["aim"])[0]
    assert "must be a dict" in driver_diagram_problems(None)[0]


def test_figure_draws_every_box_and_link():
    fig = driver_diagram_figure(GOOD, title="Sepsis")
    ax = fig.axes[0]
    texts = {t.get_text().replace("\n", " ") for t in ax.texts}
    for name in [*GOOD["primary_drivers"], *GOOD["secondary_drivers"], *GOOD["change_ideas"]]:
        assert name in texts
    # links: 2 aim->primary, 3 primary->secondary, 4 secondary->idea (one idea has two parents)
    assert len(ax.lines) == 2 + 3 + 4
    assert fig._suptitle.get_text() == "Sepsis"


def test_figure_refuses_invalid_diagram():
    with pytest.raises(ValueError, match="no change idea"):
        driver_diagram_figure({**GOOD, "change_ideas": {}})


# ---------------------------------------------------------------- measures


def test_operational_definition_validates_and_reports_gaps():
    d = OperationalDefinition(
        name="Falls per 1,000 occupied bed days", kind="outcome", numerator="Falls reported on Datix",
        denominator="Occupied bed days (midnight census)", data_source="Datix; PAS", direction="decrease",
    )
    assert d.missing() == ["inclusions", "collected_by", "frequency", "display"]
    with pytest.raises(ValueError, match="kind must be one of"):
        OperationalDefinition(name="x", kind="structure", numerator="y", denominator=None)
    with pytest.raises(ValueError, match="numerator"):
        OperationalDefinition(name="x", kind="process", numerator=" ", denominator=None)
    with pytest.raises(ValueError, match="direction"):
        OperationalDefinition(name="x", kind="process", numerator="y", denominator=None, direction="up")


def test_collection_plan_orders_outcome_process_balancing():
    defs = [
        OperationalDefinition(name="Readmitted within 30 days", kind="balancing", numerator="r", denominator="d"),
        OperationalDefinition(name="Discharged before noon", kind="outcome", numerator="n", denominator="d"),
        OperationalDefinition(name="TTO written the day before", kind="process", numerator="t", denominator=None),
    ]
    plan = collection_plan(defs)
    assert list(plan["kind"].astype(str)) == ["outcome", "process", "balancing"]
    assert plan.loc[plan["kind"] == "process", "denominator"].item() == "(none)"
    with pytest.raises(ValueError):
        collection_plan([])


def test_family_problems():
    assert family_problems(["outcome", "process", "process", "balancing"]) == []
    probs = family_problems({"Before-noon discharges": "outcome"})
    assert len(probs) == 2 and any("balancing" in p for p in probs) and any("process" in p for p in probs)
    assert any("too many" in p for p in family_problems(["outcome", "balancing"] + ["process"] * 7))
    with pytest.raises(ValueError, match="Unknown measure type"):
        family_problems(["outcome", "structure"])


def test_rate_per_numbers_and_series():
    # 3 falls in 2,400 occupied bed days = 1.25 per 1,000
    assert rate_per(3, 2400) == pytest.approx(1.25)
    s = rate_per(pd.Series([0, 2, 5], index=list("abc")), pd.Series([500, 1000, 2500], index=list("abc")))
    assert list(s.index) == list("abc")
    np.testing.assert_allclose(s.to_numpy(), [0.0, 2.0, 2.0])
    assert rate_per(1, 50, per=100) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="positive"):
        rate_per([1, 2], [10, 0])
    with pytest.raises(ValueError, match="negative"):
        rate_per(-1, 10)


def test_safety_cross_data_sums_days_and_keeps_gaps_unrecorded():
    dates = pd.to_datetime(["2024-02-01", "2024-02-03", "2024-02-03", "2024-02-29", "2024-03-01"])
    d = safety_cross_data(dates, [0, 1, 1, 0, 4], 2024, 2)
    assert len(d) == 29  # leap year
    assert d.loc[d.day == 3, "events"].item() == 2
    assert bool(d.loc[d.day == 2, "recorded"].item()) is False
    assert bool(d.loc[d.day == 29, "recorded"].item()) is True
    assert d["events"].sum() == 2  # the March event is not in February
    with pytest.raises(ValueError, match="month"):
        safety_cross_data(dates, [0] * 5, 2024, 13)


def test_safety_cross_figure_colours_days():
    dates = pd.date_range("2025-04-01", "2025-04-10")
    d = safety_cross_data(dates, [0, 1, 0, 0, 3, 0, 0, 0, 0, 1], 2025, 4)
    fig = safety_cross_figure(d)
    ax = fig.axes[0]
    faces = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert len(faces) == 30
    assert faces.count("#d7191c") == 3 and faces.count("#1a9641") == 7 and faces.count("#ffffff") == 20
    assert "3 of 10 recorded days" in ax.get_title()
    assert "5 in total" in ax.get_title()
    with pytest.raises(ValueError, match="columns"):
        safety_cross_figure(pd.DataFrame({"day": [1]}))


# ---------------------------------------------------------------- widgets (module 3 and 4 explorers)


def _shift_series():
    # 12 baseline weeks around 15%, then 12 weeks around 30%: a shift any rule set should catch
    return [15, 16, 14, 17, 15, 13, 16, 15, 14, 17, 16, 15, 29, 31, 30, 28, 32, 30, 29, 31, 33, 30, 28, 31]


def test_run_chart_explorer_renders_and_reacts():
    from qicourse.widgets.measurement import run_chart_explorer

    ex = run_chart_explorer(_shift_series(), ylab="% before noon", intervention=12)
    first = ex.summary.value
    assert "Median" in first and "15" in first  # median of the 12 baseline points is 15
    assert "Unusually long run" in first
    assert len(ex.plot.outputs) == 1 and "image/png" in ex.plot.outputs[0]["data"]
    # only the baseline collected so far: no signal yet
    ex.n_points.value = 12
    assert "none: the variation looks random" in ex.summary.value
    # switch the rule set: IHI names a shift instead of Anhøj's long run
    ex.n_points.value = 24
    ex.rules.value = "ihi"
    assert "Shift" in ex.summary.value and "Runs" in ex.summary.value
    # moving the baseline to all points moves the median up
    ex.intervention.value = 24
    assert ex.result.summary["cl"] > 15


def test_run_chart_explorer_validates_input():
    from qicourse.widgets.measurement import run_chart_explorer

    with pytest.raises(ValueError, match="at least 10"):
        run_chart_explorer([1, 2, 3])
    with pytest.raises(ValueError, match="missing"):
        run_chart_explorer([1.0] * 11 + [float("nan")])
    with pytest.raises(ValueError, match="rules"):
        run_chart_explorer(list(range(12)), rules="western")


def test_baseline_chooser_median_of_patients_not_of_weeks():
    from qicourse.widgets.measurement import baseline_chooser

    # week 1: 3 patients (10, 20, 90); week 2: 1 patient (100) -> patient median 55, weekly medians 20 and 100
    times = pd.to_datetime(["2025-01-06 10:00", "2025-01-07 11:00", "2025-01-08 12:00", "2025-01-14 13:00"])
    ch = baseline_chooser(times, [10, 20, 90, 100], improvement=0.2)
    assert ch.baseline() == (55.0, 4, 2)
    assert ch.target() == pytest.approx(44.0)
    assert "55 minutes" in ch.summary.value and "44 minutes" in ch.summary.value
    ch.period.index = (0, 0)
    assert ch.baseline() == (20.0, 3, 1)
    assert "Few weeks or patients" in ch.summary.value
    assert "image/png" in ch.plot.outputs[-1]["data"]
    with pytest.raises(ValueError, match="two weeks"):
        baseline_chooser(times[:3], [1, 2, 3])
