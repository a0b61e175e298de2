"""Unit tests for qicourse.tools.problem (Pareto, fishbone, process map, five whys, coding frame,
stakeholder grid). Expected values are worked by hand in the comments."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from qicourse.tools.problem import (  # noqa: E402
    FISHBONE_CATEGORIES,
    ProcessStep,
    WhyStep,
    apply_coding_frame,
    compile_frame,
    five_whys_problems,
    frame_agreement,
    pareto_table,
    plot_fishbone,
    plot_pareto,
    plot_process_map,
    plot_stakeholder_grid,
    process_steps,
    representative_quotes,
    stakeholder_grid,
    theme_counts,
    vital_few,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------ Pareto
INCIDENTS = ["Falls"] * 40 + ["Medication"] * 25 + ["Pressure ulcer"] * 15 + \
    ["Communication"] * 10 + ["Equipment"] * 6 + ["Other"] * 4  # 100 events


def test_pareto_table_sorts_and_accumulates():
    """Are categories sorted by count with the right % and cumulative %?"""
    t = pareto_table(list(reversed(INCIDENTS)))
    assert list(t["category"]) == ["Falls", "Medication", "Pressure ulcer", "Communication",
                                   "Equipment", "Other"]
    assert list(t["count"]) == [40, 25, 15, 10, 6, 4]
    np.testing.assert_allclose(t["percent"], [40, 25, 15, 10, 6, 4])
    np.testing.assert_allclose(t["cumulative_percent"], [40, 65, 80, 90, 96, 100])
    # 40 + 25 + 15 = 80 reaches 80 % exactly: the vital few are the first three.
    assert list(t["vital_few"]) == [True, True, True, False, False, False]


def test_pareto_inputs_agree():
    """Do a list, a DataFrame column, a dict of counts and a count column all give one table?"""
    from_list = pareto_table(INCIDENTS)
    df = pd.DataFrame({"category": pd.Categorical(INCIDENTS)})
    from_df = pareto_table(df, category="category")
    counts = {"Falls": 40, "Medication": 25, "Pressure ulcer": 15, "Communication": 10,
              "Equipment": 6, "Other": 4}
    from_dict = pareto_table(counts)
    monthly = pd.DataFrame({"cat": ["Falls", "Falls", "Medication", "Pressure ulcer",
                                    "Communication", "Equipment", "Other"],
                            "n": [30, 10, 25, 15, 10, 6, 4]})
    from_sum = pareto_table(monthly, category="cat", count="n")
    from_value_counts = pareto_table(pd.Series(INCIDENTS).value_counts())
    for other in (from_df, from_dict, from_sum, from_value_counts):
        pd.testing.assert_frame_equal(from_list, other, check_dtype=False)


def test_pareto_ties_are_alphabetical_and_threshold_moves_vital_few():
    """Are ties broken alphabetically, and does a lower threshold need fewer categories?"""
    t = pareto_table({"b": 2, "a": 2, "c": 1})
    assert list(t["category"]) == ["a", "b", "c"]
    assert vital_few(INCIDENTS) == ["Falls", "Medication", "Pressure ulcer"]
    assert vital_few(INCIDENTS, threshold=50) == ["Falls", "Medication"]  # 40 < 50 <= 65
    assert vital_few(INCIDENTS, threshold=100) == ["Falls", "Medication", "Pressure ulcer",
                                                   "Communication", "Equipment", "Other"]
    # vital_few accepts a ready-made table and honours a different threshold
    assert vital_few(pareto_table(INCIDENTS), threshold=90) == ["Falls", "Medication",
                                                                "Pressure ulcer", "Communication"]


def test_pareto_single_category_and_zero_counts():
    """Does one category reach 100 % at once, and do zero-count categories sit at the bottom?"""
    t = pareto_table(["Falls"] * 3)
    assert t["cumulative_percent"].tolist() == [100.0] and t["vital_few"].tolist() == [True]
    t = pareto_table({"Falls": 3, "Other": 0, "Medication": 1})
    assert t["category"].tolist() == ["Falls", "Medication", "Other"]
    assert t["cumulative_percent"].iloc[-1] == 100.0


def test_pareto_ignores_missing_labels():
    """Are missing categories left out rather than counted as a category 'nan'?"""
    t = pareto_table(["Falls", None, "Falls", float("nan"), "Medication"])
    assert t["count"].sum() == 3 and "nan" not in t["category"].tolist()


def test_pareto_last_cumulative_is_exactly_100():
    """Does rounding noise never leave the last cumulative % at 99.999...?"""
    t = pareto_table({str(i): 1 for i in range(7)})
    assert t["cumulative_percent"].iloc[-1] == 100.0
    assert t["vital_few"].sum() == 6  # 6/7 = 85.7 % is the first to reach 80 %


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        ([], {}, "empty"),
        ({"a": 0, "b": 0}, {}, "all counts are zero"),
        ({"a": -1, "b": 3}, {}, "negative"),
        ({"a": "x"}, {}, "numbers"),
        (pd.DataFrame({"c": ["a"]}), {}, "category="),
        (pd.DataFrame({"c": ["a"]}), {"category": "cat"}, "no column 'cat'"),
        (pd.DataFrame({"c": ["a"]}), {"category": "c", "count": "n"}, "no column 'n'"),
        (["a"], {"threshold": 0}, "threshold"),
        (["a"], {"threshold": 120}, "threshold"),
    ],
)
def test_pareto_bad_input_errors(data, kwargs, message):
    """Is bad input refused with a message naming the problem?"""
    with pytest.raises(ValueError, match=message):
        pareto_table(data, **kwargs)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 10_000), min_size=1, max_size=15),
       st.floats(1, 100))
def test_pareto_table_properties(counts, threshold):
    """For any counts: sorted, cumulative % rising to exactly 100, vital few the shortest top set reaching the threshold?"""
    if sum(counts.values()) == 0:
        with pytest.raises(ValueError):
            pareto_table(counts)
        return
    t = pareto_table(counts, threshold=threshold)
    assert sorted(t["category"]) == sorted(map(str, counts))
    assert (t["count"].diff().dropna() <= 0).all()
    assert (t["cumulative_percent"].diff().dropna() >= -1e-9).all()
    assert t["cumulative_percent"].iloc[-1] == 100.0
    k = int(t["vital_few"].sum())
    assert t["vital_few"].tolist() == [True] * k + [False] * (len(t) - k)
    assert t["cumulative_percent"].iloc[k - 1] >= threshold - 1e-6
    if k > 1:
        assert t["cumulative_percent"].iloc[k - 2] < threshold


def test_pareto_rejects_non_collections():
    """Is a bare number refused with a TypeError that says what is expected?"""
    with pytest.raises(TypeError, match="expected a DataFrame"):
        pareto_table(42)


def test_plot_pareto_draws_bars_line_and_reference():
    """Does the chart have sorted bars, a cumulative line on a 0-100 axis and the 80 % line?"""
    ax = plot_pareto(pareto_table(INCIDENTS), title="Incidents")
    heights = [p.get_height() for p in ax.patches]
    assert heights == [40, 25, 15, 10, 6, 4]
    right = ax.right_ax
    line = right.lines[0]
    np.testing.assert_allclose(line.get_ydata(), [40, 65, 80, 90, 96, 100])
    assert any(np.allclose(ln.get_ydata(), 80) for ln in right.lines[1:])
    assert ax.get_ylabel() and ax.get_xlabel() and right.get_ylabel().endswith("(%)")
    assert right.get_ylim()[0] == 0 and right.get_ylim()[1] >= 100


def test_plot_pareto_accepts_raw_categories():
    """Can a learner pass raw labels straight to the plot?"""
    ax = plot_pareto(["a", "a", "b"])
    assert [p.get_height() for p in ax.patches] == [2, 1]


# ------------------------------------------------------------------ fishbone
def test_fishbone_draws_every_category_and_cause():
    """Does the diagram show the effect, each category and each cause as text?"""
    causes = {c: [f"{c} cause {i}" for i in range(2)] for c in FISHBONE_CATEGORIES}
    ax = plot_fishbone(causes, "Antibiotics later than 60 minutes")
    texts = [t.get_text().replace("\n", " ") for t in ax.texts]
    for c in FISHBONE_CATEGORIES:
        assert c in texts
        assert f"{c} cause 0" in texts and f"{c} cause 1" in texts
    assert "Antibiotics later than 60 minutes" in texts
    assert len(FISHBONE_CATEGORIES) == 6


def test_fishbone_odd_number_of_categories_and_empty_bone():
    """Do three categories (one with no causes yet) still draw?"""
    ax = plot_fishbone({"People": ["Locum FY1"], "Process": [], "Kit": ["No cannula"]}, "Delay")
    assert "Process" in [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("causes, effect, message", [
    ({}, "x", "non-empty"),
    ({"People": "one string"}, "x", "list of strings"),
    ({"People": ["a"]}, "  ", "effect"),
])
def test_fishbone_bad_input(causes, effect, message):
    """Is bad input refused with a clear message?"""
    with pytest.raises(ValueError, match=message):
        plot_fishbone(causes, effect)


# ------------------------------------------------------------------ process map
def test_process_steps_normalise_all_forms():
    """Do strings, tuples, dicts and ProcessStep all become ProcessSteps with start/end kinds?"""
    steps = process_steps(["Trigger", ("Review", 20), {"label": "Sepsis?", "kind": "decision",
                                                       "minutes": 5}, ProcessStep("Given", 30)])
    assert [s.kind for s in steps] == ["start", "step", "decision", "step"]
    assert [s.minutes for s in steps] == [None, 20, 5, 30]
    assert process_steps(["a", "b"])[-1].kind == "end"


@pytest.mark.parametrize("steps, message", [
    (["only one"], "at least two"),
    ("a string", "at least two"),
    (["a", ""], "empty label"),
    (["a", ("b", -5)], "minutes"),
    (["a", {"label": "b", "kind": "loop"}], "kind"),
    (["a", {"minutes": 3}], "label"),
    (["a", 3], "must be a string"),
])
def test_process_steps_bad_input(steps, message):
    """Is each kind of bad step refused with a message naming the step?"""
    with pytest.raises(ValueError, match=message):
        process_steps(steps)


def test_process_map_marks_slow_steps_and_total():
    """Are waits over the threshold drawn red, and is the total time shown?"""
    ax = plot_process_map([("Trigger", None), ("Escalated", 10), ("Reviewed", 45),
                           ("Prescribed", 5), ("Given", 30), ("Documented", 2)],
                          per_row=3, highlight_over=20)
    texts = {t.get_text(): t for t in ax.texts}
    assert "Total: 92 min" in texts
    assert matplotlib.colors.to_hex(texts["45 min"].get_color()).upper() == "#DA291C"
    assert matplotlib.colors.to_hex(texts["10 min"].get_color()) == "#000000"


# ------------------------------------------------------------------ five whys
GOOD_CHAIN = [
    ("Why were antibiotics given more than an hour after the sepsis trigger?",
     "The antibiotics were not prescribed until the FY1 reviewed the patient."),
    ("Why were antibiotics not prescribed until the FY1 review?",
     "The FY1 review happened 50 minutes after the nurse escalated."),
    ("Why did the FY1 review take 50 minutes after escalation?",
     "The bleep went to one FY1 covering four wards at night."),
    ("Why was one FY1 covering four wards at night?",
     "The night rota has no cover for sepsis reviews when the FY1 is busy."),
]


def test_good_five_whys_chain_has_no_problems():
    """Does a chain where each why follows the previous answer pass?"""
    assert five_whys_problems("Antibiotics given more than an hour after sepsis trigger",
                              GOOD_CHAIN) == []
    # dicts and WhyStep objects are accepted too
    as_dicts = [{"why": w, "because": b} for w, b in GOOD_CHAIN]
    assert five_whys_problems("Antibiotics given late after sepsis trigger", as_dicts) == []
    assert five_whys_problems("Antibiotics given late after sepsis trigger",
                              [WhyStep(w, b) for w, b in GOOD_CHAIN]) == []


def test_five_whys_detects_a_broken_link():
    """Is a why that does not ask about the previous answer reported with its number?"""
    chain = list(GOOD_CHAIN)
    chain[2] = ("Why is the ward short of cannulas?", "Stores deliver on Mondays only.")
    problems = five_whys_problems("Antibiotics given late after sepsis trigger", chain)
    assert any("Why 3 does not ask about the answer to why 2" in p for p in problems)
    assert any("Why 4" in p for p in problems)  # 'one FY1 covering four wards' is not about stores


def test_five_whys_too_short_solution_blame_and_loop():
    """Are a short chain, a solution in disguise, blame and a circular chain all named?"""
    short = five_whys_problems("Falls at night", [("Why do falls happen at night?",
                                                   "Patients walk to the toilet at night.")])
    assert any("Only 1 why" in p for p in short)
    sol = five_whys_problems("Falls at night", GOOD_CHAIN[:2] + [
        ("Why did the FY1 review take 50 minutes?", "We need a new sepsis proforma.")])
    assert any("solution in disguise" in p for p in sol)
    blame = five_whys_problems("Falls at night", GOOD_CHAIN[:2] + [
        ("Why did the FY1 review take 50 minutes?", "The FY1 forgot the bleep.")])
    assert any("blames a person" in p for p in blame)
    loop = five_whys_problems("Late antibiotics", [
        ("Why late antibiotics?", "The prescription was late."),
        ("Why was the prescription late?", "The antibiotics were late."),
        ("Why were the antibiotics late?", "The prescription was late."),
    ])
    assert any("circle" in p for p in loop)
    empty = five_whys_problems("", [("", "x"), ("Why x?", "y"), ("Why y?", "z")])
    assert any("problem statement is empty" in p for p in empty)
    assert any("Link 1 has an empty" in p for p in empty)


@pytest.mark.parametrize("last, named", [
    ("The night nurses cannot be bothered to get up.", "blames a person"),
    ("Staff ignore the call bells at night.", "blames a person"),
    ("The night nurses can't be bothered to answer.", "blames a person"),
    ("The FY1 review has no sepsis proforma.", "solution in disguise"),
    ("The ward does not have enough sensor mats.", "solution in disguise"),
    ("The night rota has no cover for sepsis reviews when the FY1 is busy.", None),
])
def test_five_whys_blame_and_missing_fix_in_plain_words(last, named):
    """Are blame and a missing product named in plain words, and a gap in the system left alone?"""
    chain = GOOD_CHAIN[:3] + [("Why was one FY1 covering four wards at night?", last)]
    problems = five_whys_problems("Antibiotics given late after sepsis trigger", chain)
    if named:
        assert any(named in p for p in problems), problems
    else:
        assert not any("blames" in p or "disguise" in p for p in problems), problems


@pytest.mark.parametrize("chain", ["just text", [("only one part",)], [42]])
def test_five_whys_bad_structure(chain):
    """Is a chain that is not a list of (why, because) pairs refused clearly?"""
    with pytest.raises(ValueError, match="five whys"):
        five_whys_problems("Problem", chain)


# ------------------------------------------------------------------ coding frame
COMMENTS = pd.Series([
    "The nurses were kind and the doctor explained everything",
    "Waited four hours for pain relief",
    "The food was cold and the meals came late",
    "Call bell ignored for ages at night",
    "Nursing staff rushed off their feet",
    None,
    "Parking was impossible",
], index=[10, 11, 12, 13, 14, 15, 16])
FRAME = {"staff attitude": ["nurs*", "doctor*", "kind"],
         "waiting": ["wait*", "ages", "call bell"],
         "food": ["food", "meal*"]}


def test_apply_coding_frame_matches_words_stems_and_phrases():
    """Do whole words, stems with * and phrases match, case-insensitively, keeping the index?"""
    coded = apply_coding_frame(COMMENTS, FRAME)
    assert list(coded.columns) == list(FRAME)
    assert list(coded.index) == list(COMMENTS.index)
    assert coded.loc[10].tolist() == [True, False, False]
    assert coded.loc[11].tolist() == [False, True, False]   # "Waited" via wait*
    assert coded.loc[12].tolist() == [False, False, True]   # "late" is not a waiting keyword
    assert coded.loc[13].tolist() == [False, True, False]   # phrase "call bell"
    assert coded.loc[14].tolist() == [True, False, False]   # "Nursing" via nurs*
    assert coded.loc[15].tolist() == [False, False, False]  # missing comment
    assert not coded.loc[16].any()


def test_whole_word_matching_avoids_false_hits():
    """Does 'ages' not match 'messages', and 'food' not match 'foods' without a star?"""
    coded = apply_coding_frame(["Left messages", "Foods were fine"], {"w": ["ages"], "f": ["food"]})
    assert not coded.to_numpy().any()
    regexes = compile_frame({"t": ["call  bell"]})
    assert regexes["t"].search("CALL\nBELL")


def test_theme_counts_and_quotes():
    """Are themes counted (with uncoded last) and are single-theme, short quotes preferred?"""
    coded = apply_coding_frame(COMMENTS, FRAME)
    counts = theme_counts(coded)
    assert counts["theme"].tolist() == ["staff attitude", "waiting", "food", "(uncoded)"]
    assert counts["comments"].tolist() == [2, 2, 1, 2]
    assert counts["percent"].iloc[0] == pytest.approx(100 * 2 / 7)
    quotes = representative_quotes(COMMENTS, coded, "waiting", n=1)
    assert quotes == ["Waited four hours for pain relief"]
    assert len(representative_quotes(COMMENTS, coded, "staff attitude", n=5)) == 2
    with pytest.raises(ValueError, match="no theme"):
        representative_quotes(COMMENTS, coded, "parking")


def test_representative_quotes_skip_near_repeats():
    """Is a comment that only adds 'Thank you' to a chosen one skipped for a different quote?"""
    comments = pd.Series(["I slept well.", "I slept well. Thank you.", "Too noisy to sleep at night."])
    coded = apply_coding_frame(comments, {"sleep": ["slept", "sleep"]})
    assert representative_quotes(comments, coded, "sleep", n=2) == ["I slept well.",
                                                                      "Too noisy to sleep at night."]


def test_frame_agreement_precision_recall():
    """Are precision and recall computed per theme against the true labels?"""
    coded = apply_coding_frame(COMMENTS, FRAME)
    truth = pd.DataFrame(False, index=COMMENTS.index, columns=list(FRAME))
    truth.loc[[10, 14], "staff attitude"] = True
    truth.loc[[11, 13, 12], "waiting"] = True  # 12 ("meals came late") is about waiting too
    truth.loc[12, "food"] = True
    agree = frame_agreement(coded, truth).set_index("theme")
    assert agree.loc["staff attitude", ["precision", "recall"]].tolist() == [1.0, 1.0]
    assert agree.loc["waiting", "false_negatives"] == 1
    assert agree.loc["waiting", "recall"] == pytest.approx(2 / 3)
    assert agree.loc["waiting", "precision"] == 1.0
    truth["food"] = False
    agree = frame_agreement(coded, truth).set_index("theme")
    assert agree.loc["food", "precision"] == 0.0 and math.isnan(agree.loc["food", "recall"])


def test_coding_frame_bad_input():
    """Are empty frames, empty keywords, a bare string and mismatched truth refused clearly?"""
    with pytest.raises(ValueError, match="non-empty"):
        apply_coding_frame(COMMENTS, {})
    with pytest.raises(ValueError, match="empty keyword"):
        apply_coding_frame(COMMENTS, {"t": [" "]})
    with pytest.raises(ValueError, match="list of strings"):
        apply_coding_frame(COMMENTS, {"t": "wait"})
    with pytest.raises(ValueError, match="no keywords"):
        apply_coding_frame(COMMENTS, {"t": []})
    with pytest.raises(ValueError, match="not one string"):
        apply_coding_frame("one comment", FRAME)
    coded = apply_coding_frame(COMMENTS, FRAME)
    with pytest.raises(ValueError, match="no true labels"):
        frame_agreement(coded, pd.DataFrame(index=COMMENTS.index))
    with pytest.raises(ValueError, match="same rows"):
        frame_agreement(coded, pd.DataFrame(False, index=range(7), columns=list(FRAME)))


# ------------------------------------------------------------------ stakeholders
def test_stakeholder_grid_quadrants_and_boundaries():
    """Does each stakeholder get Mendelow's strategy, with the midpoint counting as high?"""
    g = stakeholder_grid({"Ward manager": (8, 9), "FY1s": (3, 9), "Pharmacy": (6, 3),
                          "Porters": (2, 2), "Matron": (5, 5)}).set_index("stakeholder")
    assert g["strategy"].to_dict() == {"Ward manager": "Manage closely", "FY1s": "Keep informed",
                                       "Pharmacy": "Keep satisfied", "Porters": "Monitor",
                                       "Matron": "Manage closely"}
    ax = plot_stakeholder_grid(g.reset_index())
    assert ax.get_xlabel().startswith("Interest") and ax.get_ylabel().startswith("Power")


@pytest.mark.parametrize("data, message", [
    ({}, "dict"),
    ({"A": (11, 2)}, "power must be 0-10"),
    ({"A": (2, -1)}, "interest must be 0-10"),
    ({"A": ("high", 2)}, "numbers"),
    ({"A": (1, 2, 3)}, "numbers"),
])
def test_stakeholder_grid_bad_input(data, message):
    """Are out-of-range or malformed scores refused with the stakeholder's name?"""
    with pytest.raises(ValueError, match=message):
        stakeholder_grid(data)
