"""Rubric files: the shipped rubrics load; a bad rubric gives an error naming file, criterion and problem."""

from __future__ import annotations

import copy

import pytest
import yaml

from qicourse.rubric import RubricError, list_rubrics, load_rubric, parse_rubric, rubric_for_grade_id

GOOD = {
    "id": "mini",
    "title": "Mini rubric",
    "grade_ids": ["mini_answer"],
    "total_points": 3,
    "keyword_groups": {"words": {"patterns": ["hello"], "hint": "Say hello."}},
    "criteria": [
        {"id": "greeting", "title": "Greeting", "points": 2, "levels": [
            {"points": 0, "label": "None", "descriptor": "No greeting."},
            {"points": 1, "label": "Some", "descriptor": "A greeting.", "evidence": {"requires": ["kw.words"]}},
            {"points": 2, "label": "Full", "descriptor": "A greeting with numbers.",
             "evidence": {"requires": ["kw.words", "text.has_numbers"]}},
        ]},
        {"id": "aim", "title": "Aim", "points": 1, "levels": [
            {"points": 0, "label": "No", "descriptor": "No aim."},
            {"points": 1, "label": "Yes", "descriptor": "An aim.", "evidence": {"any_of": ["smart.direction"]}},
        ]},
    ],
}


def bad(mutate) -> str:
    raw = copy.deepcopy(GOOD)
    mutate(raw)
    with pytest.raises(RubricError) as info:
        parse_rubric(raw, source="/x/mini.yaml")
    return str(info.value)


def test_shipped_rubrics_load():
    """Do the three shipped rubrics load, with the grade ids the notebooks use?"""
    assert {"smart_aim", "pdsa_plan", "capstone"} <= set(list_rubrics())
    assert load_rubric("smart_aim").grade_ids == ("smart_aim",)
    assert load_rubric("pdsa_plan").max_points == 13
    cap = load_rubric("capstone")
    assert cap.grade_ids == ("capstone_report",)
    assert [c.id for c in cap.criteria] == ["problem", "aim", "measures", "changes", "pdsa", "results",
                                            "interpretation", "equity", "sustainability", "limitations"]


def test_rubric_for_grade_id():
    """Is the rubric found by the grade id of the cell it marks, and None for other cells?"""
    assert rubric_for_grade_id("capstone_report").id == "capstone"
    assert rubric_for_grade_id("pdsa_plan").id == "pdsa_plan"
    assert rubric_for_grade_id("baseline_median") is None


def test_good_rubric_parses():
    """Does a well-formed rubric parse into typed criteria and levels?"""
    r = parse_rubric(copy.deepcopy(GOOD), source="mini.yaml")
    assert r.max_points == 3
    assert r.criterion("greeting").levels[2].evidence.requires == ("kw.words", "text.has_numbers")


@pytest.mark.parametrize("mutate,needles", [
    (lambda r: r.update(colour="blue"), ["mini.yaml", "unknown key 'colour'"]),
    (lambda r: r["criteria"][0].update(weight=2), ["criterion 'greeting'", "unknown key 'weight'"]),
    (lambda r: r["criteria"][0]["levels"][1].update(colour=1), ["criterion 'greeting' level 1", "unknown key"]),
    (lambda r: r["criteria"][0]["levels"][1]["evidence"].update(maybe=["x"]), ["unknown evidence key 'maybe'"]),
    (lambda r: r["criteria"][0]["levels"].reverse(), ["criterion 'greeting'", "levels out of order"]),
    (lambda r: r["criteria"][0]["levels"][2].update(points=1), ["levels out of order"]),
    (lambda r: r["criteria"][0].update(points=5), ["criterion 'greeting'", "points do not add up"]),
    (lambda r: r.update(total_points=10), ["total_points is 10", "add up to 3"]),
    (lambda r: r["criteria"][1].update(id="greeting"), ["criterion 'greeting'", "duplicate criterion id"]),
    (lambda r: r["criteria"][0]["levels"][1].pop("descriptor"), ["criterion 'greeting' level 1", "missing descriptor"]),
    (lambda r: r["criteria"][0]["levels"][1].update(label=""), ["missing label"]),
    (lambda r: r["criteria"][0]["levels"][1].pop("evidence"), ["level 1", "missing evidence"]),
    (lambda r: r["criteria"][0]["levels"][0].update(evidence={"requires": ["kw.words"]}), ["level 0", "must not list"]),
    (lambda r: r["criteria"][0]["levels"][1]["evidence"].update(requires=["smart.telepathy"]),
     ["unknown detector 'smart.telepathy'"]),
    (lambda r: r["criteria"][0]["levels"][1]["evidence"].update(requires=["kw.nothing"]), ["unknown detector 'kw.nothing'"]),
    (lambda r: r["criteria"][0]["levels"][1]["evidence"].update(at_least={"n": 3, "of": ["kw.words"]}),
     ["at_least n=3"]),
    (lambda r: r["keyword_groups"].update(broken={"patterns": ["("]}), ["keyword group 'broken'", "not a valid regular"]),
    (lambda r: r.pop("grade_ids"), ["missing required key 'grade_ids'"]),
    (lambda r: r.update(criteria=[]), ["criteria must be a non-empty list"]),
    (lambda r: r["criteria"][0]["levels"].pop(0), ["first level must be worth 0"]),
])
def test_bad_rubric_errors_name_file_criterion_and_problem(mutate, needles):
    """Is each kind of mistake reported with the file, the criterion and the problem?"""
    message = bad(mutate)
    assert "mini.yaml" in message
    for n in needles:
        assert n in message, message


def test_all_problems_reported_at_once():
    """Are several mistakes listed together, one a line, so an author fixes them in one go?"""
    def two(r):
        r.update(colour="blue")
        r["criteria"][0].update(points=7)
    message = bad(two)
    assert "unknown key 'colour'" in message and "points do not add up" in message
    assert message.count("\n") >= 2


def test_load_errors(tmp_path):
    """Are a missing rubric, invalid YAML and a non-mapping file refused with clear messages?"""
    with pytest.raises(FileNotFoundError, match="known rubrics"):
        load_rubric("no_such_rubric")
    p = tmp_path / "broken.yaml"
    p.write_text("id: [unclosed\n")
    with pytest.raises(RubricError, match="broken.yaml: not valid YAML"):
        load_rubric(p)
    p.write_text(yaml.safe_dump(["a", "list"]))
    with pytest.raises(RubricError, match="must be a mapping"):
        load_rubric(p)


def test_every_detector_is_documented():
    """Does grader/rubrics/README.md document every detector a rubric author can name?"""
    from qicourse.rubric.detectors import DETECTORS
    from qicourse.rubric import rubrics_dir

    doc = (rubrics_dir() / "README.md").read_text()
    missing = [name for name in DETECTORS if f"`{name}`" not in doc]
    assert not missing
