"""Read a submitted notebook defensively and repair it against the released version.

Every problem becomes a note or an error for that learner; nothing is silently dropped.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


class SubmissionError(Exception):
    """The submission cannot be graded at all (the reason is shown to the educator)."""


@dataclass
class Repair:
    nb: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)
    """what we changed or noticed, in words for the educator"""


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_protected(cell) -> bool:
    """Cells a learner must not change: locked cells and tests (grade cells that are not answers)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked") or (meta.get("grade") and not meta.get("solution")))


def read_submission(path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """Parse a notebook file; raise SubmissionError naming what is wrong with it."""
    raw = Path(path).read_bytes()
    try:
        data = json.loads(raw.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SubmissionError(f"not a valid notebook file (invalid JSON: {str(exc)[:120]})") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise SubmissionError("not a notebook (no cells in the file)")
    notes = []
    major = data.get("nbformat")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)  # converts older versions, joins line lists
    except Exception as exc:
        raise SubmissionError(f"unsupported or damaged notebook format {major!r} ({str(exc).splitlines()[0][:100]})") from None
    if major != 4:
        notes.append(f"converted from notebook format {major} to 4")
    try:
        nbformat.validate(nb)
    except Exception:
        try:  # nbformat repairs the common damage (missing cell ids, stray fields)
            nbformat.validator.normalize(nb)
            notes.append("notebook structure repaired")
        except Exception as exc:
            raise SubmissionError(f"notebook structure is invalid ({str(exc).splitlines()[0][:120]})") from None
    return nb, notes


def repair(nb, release_nb, source_nb=None) -> Repair:
    """Put back deleted/renamed/retyped graded and locked cells from the released notebook.

    Test cells come back with their visible part; nbgrader's OverwriteCells then restores the
    hidden tests and locked sources from the gradebook (source versions), so all are graded.
    """
    nb = copy.deepcopy(nb)
    rep = Repair(nb)
    released, order, release_index = {}, [], {}
    for i, cell in enumerate(release_nb.cells):
        gid = _grade_id(cell)
        if gid:
            released[gid] = cell
            order.append(gid)
            release_index[gid] = i
    submitted_ids = {_grade_id(c) for c in nb.cells if _grade_id(c)}
    # answers and tests identify an assignment; locked cells such as `setup` are shared by all of them
    marked = {g for g, c in released.items() if c.metadata["nbgrader"].get("grade") or c.metadata["nbgrader"].get("solution")}
    if marked and not (submitted_ids & marked):
        foreign = sorted(submitted_ids - set(released))
        if foreign:
            raise SubmissionError(
                "this notebook belongs to another assignment (its graded cells are "
                f"{', '.join(foreign[:4])}; expected {', '.join([g for g in order if g in marked][:4])})")
        raise SubmissionError("this notebook has none of the assignment's graded cells (wrong file?)")
    source_text = {_grade_id(c): c.source for c in (source_nb.cells if source_nb else []) if _grade_id(c)}
    seen = set()
    for cell in nb.cells:
        gid = _grade_id(cell)
        if not gid:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("locked") or meta.get("grade") or meta.get("solution"):
                # a learner-made cell claiming to be locked or graded (nbgrader's own steps fail on it)
                rep.notes.append("a cell marked for grading without a grade id treated as an ordinary cell")
                del cell.metadata["nbgrader"]
            continue
        if gid not in released:
            rep.notes.append(f"unknown graded cell '{gid}' (renamed?) treated as an ordinary cell")
            del cell.metadata["nbgrader"]
            continue
        if gid in seen:
            continue  # nbgrader's DeduplicateIds handles copies
        seen.add(gid)
        ref = released[gid]
        if cell.cell_type != ref.cell_type:
            rep.notes.append(f"cell '{gid}' had its type changed: restored")
            new = copy.deepcopy(ref)
            cell.clear()
            cell.update(new)
            continue
        if is_protected(ref) and cell.source not in (ref.source, source_text.get(gid)):
            rep.notes.append(f"edited locked cell '{gid}' restored")
        cell.metadata["nbgrader"] = copy.deepcopy(ref.metadata["nbgrader"])
        for key in ("editable", "deletable"):
            if key in ref.metadata:
                cell.metadata[key] = ref.metadata[key]
    # put back missing cells after the nearest earlier graded cell that is present
    position = {_grade_id(c): i for i, c in enumerate(nb.cells) if _grade_id(c)}
    for k, gid in enumerate(order):
        if gid in position:
            continue
        ref = copy.deepcopy(released[gid])
        if "id" in ref and ref.id in {c.get("id") for c in nb.cells}:
            ref.id = f"{ref.id[:55]}-restored"  # the learner's renamed copy may still carry the old id
        if ref.cell_type == "code":
            ref.outputs, ref.execution_count = [], None
        at = min(release_index[gid], len(nb.cells))  # no earlier graded cell: where it was released
        for prev in reversed(order[:k]):
            if prev in position:
                at = position[prev] + 1
                break
        nb.cells.insert(at, ref)
        kind = "locked cell" if is_protected(ref) else "answer cell"
        rep.notes.append(f"deleted {kind} '{gid}' put back")
        position = {_grade_id(c): i for i, c in enumerate(nb.cells) if _grade_id(c)}
    return rep
