"""Does every misconception catalogue (`grader/misconceptions/<assignment>.yaml`) have the documented
fields and name only test cells that exist in its assignment? A stale grade id would leave a
catalogue entry that no test can ever report (see grader/GRADING_POLICY.md, rule 7)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CATALOGUES = sorted((REPO / "grader" / "misconceptions").glob("*.yaml"))
FIELDS = {"id", "mistake", "explanation", "tests"}


def _test_cells(assignment: str) -> set[str]:
    (nb_path,) = sorted((REPO / "solutions" / assignment).glob("*.ipynb"))
    nb = nbformat.read(nb_path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=[p.stem for p in CATALOGUES])
def test_catalogue_entries_name_existing_test_cells(catalogue):
    """Are the fields complete, the ids unique, and is every listed grade id a test cell of the assignment?"""
    entries = yaml.safe_load(catalogue.read_text(encoding="utf-8"))
    assert isinstance(entries, list) and entries, f"{catalogue.name}: a list of entries is expected"
    tests = _test_cells(catalogue.stem)
    ids = [e.get("id") for e in entries]
    assert len(ids) == len(set(ids)), f"{catalogue.name}: duplicate ids"
    for e in entries:
        assert set(e) == FIELDS, f"{catalogue.name} {e.get('id')}: fields {sorted(set(e) ^ FIELDS)}"
        assert all(isinstance(e[k], str) and e[k].strip() for k in ("id", "mistake", "explanation")), e
        assert e["tests"] and set(e["tests"]) <= tests, (
            f"{catalogue.name} {e['id']}: not test cells of {catalogue.stem}: {sorted(set(e['tests']) - tests)}")
