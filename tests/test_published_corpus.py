"""The blind validation corpus (tests/calibration/published/) is well formed.

These tests check the data, not the marker: every hand mark is a level the rubric defines, every
quoted span really occurs in its text, the SMART verdicts follow the rule the README states, the
facts agree with themselves, and the dev / held-out split is disjoint and about 60/40. A corpus
that silently drifted from the rubrics would measure nothing.
"""
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "calibration" / "published"
RUBRICS = ROOT / "grader" / "rubrics"
# Capstone template sections (exercises/m8_capstone), named by the capstone rubric's criterion ids.
SECTIONS = ["problem", "aim", "measures", "changes", "pdsa", "results", "interpretation", "equity",
            "sustainability", "limitations"]
SMART_ELEMENTS = ["setting", "measure", "target", "baseline", "direction", "time_frame"]
# Chart signals the grading pipeline can report (grader/rubrics/README.md, "facts").
SIGNALS = {"shift", "trend", "crossings", "outside_limits"}
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _load(name):
    """Parsed once per session (read-only): the files are large and the machine is shared."""
    with open(CORPUS / name, encoding="utf-8") as f:
        return yaml.load(f, Loader=LOADER)


@cache
def _levels(rubric_id):
    """{criterion id: set of allowed points} from the rubric YAML itself."""
    with open(RUBRICS / f"{rubric_id}.yaml", encoding="utf-8") as f:
        rubric = yaml.load(f, Loader=LOADER)
    return {c["id"]: {lv["points"] for lv in c["levels"]} for c in rubric["criteria"]}


def _pairs(kind):
    return _load(f"{kind}_dev.yaml"), _load(f"{kind}_heldout.yaml")


# Later dev-only batches (README, "Second dev batch"): checked like the dev files and kept disjoint
# from every other file, but left out of the 60/40 share, which describes the original split.
EXTRA_DEV = {"aims": ["aims_dev2.yaml"], "abstracts": [], "adversarial": []}


def _docs(kind):
    """Every file of a kind: the original dev / held-out pair, then the later dev batches."""
    return (*_pairs(kind), *(_load(name) for name in EXTRA_DEV[kind]))


def _check_hand(item, rubric_id):
    levels = _levels(rubric_id)
    assert set(item["hand"]) == set(levels), f"{item['id']}: hand marks must cover exactly the {rubric_id} criteria"
    for crit, (level, why) in item["hand"].items():
        assert level in levels[crit], f"{item['id']}: {crit} level {level} is not a {rubric_id} level"
        assert isinstance(why, str) and why.strip(), f"{item['id']}: {crit} needs a justification"


@pytest.mark.parametrize("kind", ["aims", "abstracts", "adversarial"])
def test_split_is_disjoint_and_about_sixty_forty(kind):
    dev, held = _pairs(kind)
    assert dev["split"] == "dev" and held["split"] == "heldout"
    dev_ids = [it["id"] for it in dev["items"]]
    held_ids = [it["id"] for it in held["items"]]
    assert len(set(dev_ids)) == len(dev_ids) and len(set(held_ids)) == len(held_ids)
    assert not set(dev_ids) & set(held_ids), "an item is in both dev and held-out"
    for name in EXTRA_DEV[kind]:
        extra = _load(name)
        assert extra["split"] == "dev", f"{name} is a dev file"
        extra_ids = [it["id"] for it in extra["items"]]
        assert len(set(extra_ids)) == len(extra_ids), f"{name}: duplicate ids"
        assert not set(extra_ids) & (set(dev_ids) | set(held_ids)), f"{name} reuses an id of another file"
    share = len(dev_ids) / (len(dev_ids) + len(held_ids))
    assert 0.55 <= share <= 0.7, f"{kind}: dev share {share:.2f}, expected about 60%"


def test_corpus_sizes_meet_the_brief():
    aims = sum(len(d["items"]) for d in _pairs("aims"))
    abstracts = sum(len(d["items"]) for d in _pairs("abstracts"))
    adversarial = [it for d in _pairs("adversarial") for it in d["items"]]
    assert aims >= 60
    assert len(_load("aims_dev2.yaml")["items"]) >= 50, "the second dev batch holds at least 50 aims"
    assert abstracts >= 25
    assert sum(it["rubric"] == "capstone" for it in adversarial) >= 15
    assert sum(it["rubric"] in ("smart_aim", "pdsa_plan") for it in adversarial) >= 20


def test_aims_spans_marks_and_verdicts():
    top = {c: max(v) for c, v in _levels("smart_aim").items()}
    for doc in _docs("aims"):
        assert doc["rubric"] == "smart_aim"
        for item in doc["items"]:
            _check_hand(item, "smart_aim")
            assert item["source"]["url"].startswith("http"), f"{item['id']}: source needs a URL"
            smart = item["smart"]
            for name in SMART_ELEMENTS:
                el = smart[name]
                assert el["present"] == bool(el["span"]), f"{item['id']}: {name} present/span disagree"
                assert el["span"] in item["text"], f"{item['id']}: {name} span not in text"
            # The README's rule: SMART exactly when every smart_aim criterion is at its top level.
            missing = [c for c, top_level in top.items() if item["hand"][c][0] < top_level]
            assert smart["missing"] == missing, item["id"]
            assert smart["verdict"] == ("SMART" if not missing else "not SMART"), item["id"]
            # Elements and marks tell the same story (README, "Elements"): a countable measure is
            # level 2, a target with a baseline 2 and without 1, a too-big setting 1, none 0.
            hand = {c: v[0] for c, v in item["hand"].items()}
            el = {name: smart[name] for name in SMART_ELEMENTS}
            assert hand["measure"] == (2 if el["measure"].get("countable") else 1) * el["measure"]["present"], item["id"]
            assert hand["target"] == (2 if el["baseline"]["present"] else 1) * el["target"]["present"], item["id"]
            assert hand["direction"] == int(el["direction"]["present"]), item["id"]
            assert hand["scope"] == (1 if el["setting"].get("too_big") else 2) * el["setting"]["present"], item["id"]
            # A time-frame mark of 2 needs a date, range or duration; an event deadline gets 1.
            kind = smart["time_frame"]["kind"]
            assert item["hand"]["time_frame"][0] == {"date": 2, "range": 2, "duration": 2, "event": 1, "none": 0}[kind], item["id"]


def test_abstract_sections_point_into_the_text():
    for doc in _pairs("abstracts"):
        for item in doc["items"]:
            assert set(item["sections"]) | set(item["absent"]) == set(SECTIONS), item["id"]
            assert not set(item["sections"]) & set(item["absent"]), item["id"]
            for name, spans in item["sections"].items():
                assert spans, f"{item['id']}: {name} has no span"
                for span in spans:
                    assert span in item["text"], f"{item['id']}: {name} span {span!r} not in text"


def test_adversarial_marks_and_facts():
    rubric_ids = {"capstone", "smart_aim", "pdsa_plan"}
    for doc in _pairs("adversarial"):
        for item in doc["items"]:
            assert item["rubric"] in rubric_ids, item["id"]
            _check_hand(item, item["rubric"])
            facts = item.get("facts")
            if facts is None:
                continue
            assert set(facts["chart_signals"]) <= SIGNALS, item["id"]
            if "equity_percent" in facts:
                eq = facts["equity_percent"]
                assert facts["equity_gap_before"] == pytest.approx(eq["before"][5] - eq["before"][1]), item["id"]
                assert facts["equity_gap_after"] == pytest.approx(eq["after"][5] - eq["after"][1]), item["id"]


def test_capstone_headings_follow_a_real_form():
    """Every adversarial capstone is laid out under headings (template, SQUIRE or bold), except none."""
    for doc in _pairs("adversarial"):
        for item in doc["items"]:
            if item["rubric"] == "capstone":
                lines = item["text"].splitlines()
                headings = [ln for ln in lines if ln.startswith("#") or (ln.startswith("**") and ln.endswith("**"))]
                assert len(headings) >= 5, f"{item['id']}: a capstone needs its section headings"
