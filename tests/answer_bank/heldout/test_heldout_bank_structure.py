"""The held-out answer bank is well formed, so the one measurement taken with it at the end is valid.

The bank is written blind (from the student notebooks only) and is never graded here: these checks
only make sure every entry names real grade ids, every auto-graded question has at least two
correct and two wrong answers, and every wrong answer names its misconception and the words its
failure message must contain.
"""

import json
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BANK_FILES = sorted(HERE.glob("*.yaml"))


def _student_cells(assignment: str) -> tuple[set[str], list[str]]:
    """Solution code cell ids, and the ids of graded code cells that follow one (auto-graded questions)."""
    nb = json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    solutions: set[str] = set()
    questions: list[str] = []
    after_answer = False
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta:
            continue
        if meta.get("solution"):
            solutions.add(meta["grade_id"])
            after_answer = True
        elif meta.get("grade") and after_answer:
            questions.append(meta["grade_id"])
    return solutions, questions


def test_one_bank_file_per_assignment():
    exercises = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert [p.stem for p in BANK_FILES] == exercises


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.stem)
def test_bank_file_is_well_formed(path):
    bank = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert bank["assignment"] == path.stem
    solutions, questions = _student_cells(path.stem)
    seen: set[str] = set()
    counts: dict[str, dict[str, int]] = {}
    for entry in bank["entries"]:
        eid = entry["id"]
        assert eid not in seen, f"duplicate id {eid}"
        seen.add(eid)
        assert entry["verdict"] in ("correct", "wrong"), eid
        assert entry["phase"] == "blind", eid
        assert eid.startswith(f"{entry['question']}.{entry['verdict']}."), eid
        assert entry["answer_cell"] in solutions, f"{eid}: no answer cell {entry['answer_cell']!r}"
        assert entry["question"] in questions, f"{eid}: no auto-graded test cell {entry['question']!r}"
        for cell_id in entry.get("extra_cells") or {}:
            assert cell_id in solutions, f"{eid}: extra cell {cell_id!r} is not an answer cell"
        compile(entry["code"], eid, "exec")
        if entry["verdict"] == "wrong":
            assert entry["misconception"].strip(), eid
            words = entry["expect_message"]
            assert words and all(isinstance(w, str) and w.strip() for w in words), eid
        else:
            assert entry["why"].strip(), eid
        counts.setdefault(entry["question"], {"correct": 0, "wrong": 0})[entry["verdict"]] += 1
    assert set(counts) == set(questions), f"questions without entries: {sorted(set(questions) - set(counts))}"
    thin = {q: c for q, c in counts.items() if c["correct"] < 2 or c["wrong"] < 2}
    assert not thin, f"need 2 correct and 2 wrong answers per question: {thin}"
