"""`qicourse mark` and `qicourse rubric validate` run in-process with the expected exit codes."""

from __future__ import annotations

import json

import nbformat
import yaml

from qicourse.cli import main

AIM = "Reduce falls per 1,000 bed days on Ward 9 from 8 to 5 by June 2027."


def test_mark_markdown_file(tmp_path, capsys):
    """Does `qicourse mark FILE --rubric smart_aim` print the rubric table?"""
    f = tmp_path / "aim.md"
    f.write_text(AIM)
    assert main(["mark", str(f), "--rubric", "smart_aim"]) == 0
    out = capsys.readouterr().out
    assert "| Criterion |" in out and "10 / 10" in out and "provisional" in out


def test_mark_notebook_cells_and_json(tmp_path, capsys):
    """For a notebook, are the cells with the rubric's grade id marked (JSON output)?"""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Intro"),
                nbformat.v4.new_markdown_cell(AIM, metadata={"nbgrader": {"grade_id": "smart_aim", "grade": True,
                                                                          "solution": True, "points": 5}})]
    f = tmp_path / "m3.ipynb"
    nbformat.write(nb, f)
    assert main(["mark", str(f), "--rubric", "smart_aim", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["points"] == 10


def test_mark_with_facts(tmp_path, capsys):
    """Do --facts change how the results are read?"""
    f = tmp_path / "report.md"
    f.write_text("## Results\nThe run chart shows a shift of 8 points below the median.")
    assert main(["mark", str(f), "--rubric", "capstone", "--facts", '{"chart_signals": []}', "--format", "json"]) == 0
    res = {c["id"]: c for c in json.loads(capsys.readouterr().out)["criteria"]}
    assert res["results"]["level"] == 1


def test_mark_errors(tmp_path, capsys):
    """Are a missing file, unknown rubric, notebook without the cell and bad facts errors (exit 2), not tracebacks?"""
    f = tmp_path / "aim.md"
    f.write_text(AIM)
    assert main(["mark", str(tmp_path / "nope.md"), "--rubric", "smart_aim"]) == 2
    assert main(["mark", str(f), "--rubric", "no_such_rubric"]) == 2
    assert main(["mark", str(f), "--rubric", "smart_aim", "--facts", "{not json"]) == 2
    nb = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), nb)
    assert main(["mark", str(nb), "--rubric", "smart_aim"]) == 2
    assert "no cell with grade_id smart_aim" in capsys.readouterr().err


def test_validate(tmp_path, capsys):
    """Does `qicourse rubric validate` pass the shipped rubrics and fail a bad one, naming the problem?"""
    assert main(["rubric", "validate"]) == 0
    assert "ok" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    raw = yaml.safe_load(open(__import__("qicourse.rubric", fromlist=["x"]).rubrics_dir() / "smart_aim.yaml"))
    raw["criteria"][0]["points"] = 3
    bad.write_text(yaml.safe_dump(raw))
    assert main(["rubric", "validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "criterion 'direction'" in out and "points do not add up" in out
