"""The answer bank: correct alternatives and typical wrong answers for every auto-graded question,
written blind from the student notebooks, graded through the real pipeline (see
`tests/answer_bank/harness.py` and `grader/GRADING_POLICY.md`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "answer_bank"))
import harness  # noqa: E402

BANKS = sorted(p.stem for p in harness.BANK.glob("*.yaml"))


@pytest.mark.parametrize("assignment", BANKS)
def test_bank_verdicts(assignment, tmp_path):
    """Is every correct answer accepted, every wrong one caught, and every caught one told its mistake?"""
    outcomes = harness.run_bank(assignment, workdir=tmp_path)
    s = harness.summary(assignment, outcomes)
    bad = [f"{o.entry['id']}: {'; '.join(o.problems)} (message: {o.message[:160]!r})" for o in outcomes if not o.agrees]
    assert not bad, f"{assignment}: {len(bad)} of {len(outcomes)} entries disagree:\n" + "\n".join(bad)
    assert s["correct"] >= 3 and s["wrong"] >= 3


@pytest.mark.parametrize("assignment", BANKS)
def test_bank_covers_every_question(assignment):
    """Has every auto-graded question at least three correct and three wrong answers in the bank?"""
    import nbformat

    nb = nbformat.read(next((harness.REPO / "solutions" / assignment).glob("*.ipynb")), as_version=4)
    questions = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                 and not c.metadata["nbgrader"].get("solution")]
    entries = harness.load_bank(assignment)
    thin = [q for q in questions
            if sum(e["question"] == q and e["verdict"] == "correct" for e in entries) < 3
            or sum(e["question"] == q and e["verdict"] == "wrong" for e in entries) < 3]
    assert not thin, f"{assignment}: fewer than 3 correct and 3 wrong answers for {thin}"


def test_judge_flags_each_kind_of_disagreement():
    """Does the harness itself flag an accepted wrong answer, a rejected correct one, a generic message and a dump?"""
    wrong = {"verdict": "wrong", "expect_message": ["denominator"]}
    assert harness._judge({"verdict": "correct"}, 1.0, 2.0, "x") == ["correct answer rejected"]
    assert harness._judge(wrong, 2.0, 2.0, "") == ["wrong answer accepted"]
    assert "generic" in harness._judge(wrong, 0.0, 2.0, "AssertionError: a hidden test failed")[0]
    assert "does not name" in harness._judge(wrong, 0.0, 2.0, "AssertionError: check your answer")[0]
    dump = "AssertionError: no denominator\nNot equal to tolerance\n ACTUAL: array([1.])\n DESIRED: array([2.])"
    assert harness._judge(wrong, 0.0, 2.0, dump) == ["the message shows an expected-value dump"]
    assert harness._judge(wrong, 0.0, 2.0, "AssertionError: counts need a denominator") == []
