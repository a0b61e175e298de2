"""`qicourse mark FILE --rubric NAME` and `qicourse rubric validate|list`: thin wrappers over the API."""

from __future__ import annotations

import json
from pathlib import Path

from .marker import mark_answer
from .schema import list_rubrics, load_rubric, rubrics_dir


def read_answer(path: str | Path, grade_ids: tuple[str, ...]) -> str:
    """The text to mark: a .md/.txt file as is; for a notebook, the cells whose grade_id the rubric lists.

    Several cells are joined in the rubric's order, each under a heading named after its grade id.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"No such file: {p}")
    if p.suffix.lower() != ".ipynb":
        return p.read_text(encoding="utf-8", errors="replace")
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p.name} is not a readable notebook ({exc})") from None
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if gid in grade_ids:
            src = cell.get("source", "")
            found[gid] = "".join(src) if isinstance(src, list) else str(src)
    if not found:
        raise ValueError(f"{p.name} has no cell with grade_id {', '.join(grade_ids)} (the cells this rubric marks)")
    if len(found) == 1:
        return next(iter(found.values()))
    return "\n\n".join(f"## {g.replace('_', ' ')}\n\n{found[g]}" for g in grade_ids if g in found)


def _mark(args) -> int:
    rubric = load_rubric(args.rubric)
    facts = None
    if args.facts:
        try:
            facts = json.loads(Path(args.facts).read_text() if Path(args.facts).is_file() else args.facts)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--facts must be JSON or a JSON file ({exc})") from None
        if not isinstance(facts, dict):
            raise ValueError("--facts must be a JSON object, e.g. '{\"chart_signals\": [\"shift\"]}'")
    result = mark_answer(rubric, read_answer(args.file, rubric.grade_ids), facts)
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
    elif args.format == "html":
        print(result.to_html())
    else:
        print(result.to_markdown())
    return 0


def _validate(args) -> int:
    paths = [Path(p) for p in args.paths] or sorted(rubrics_dir().glob("*.yaml"))
    if not paths:
        raise FileNotFoundError(f"No rubric files found in {rubrics_dir()}")
    bad = 0
    for p in paths:
        try:
            r = load_rubric(p)
        except (ValueError, FileNotFoundError) as exc:
            bad += 1
            print(f"FAIL {p}\n{exc}")
            continue
        print(f"ok   {p}: {r.id} ({len(r.criteria)} criteria, {r.max_points:g} points, marks {', '.join(r.grade_ids)})")
    return 1 if bad else 0


def _list(args) -> int:
    names = list_rubrics()
    if not names:
        raise FileNotFoundError(f"No rubric files found in {rubrics_dir()}")
    for name in names:
        r = load_rubric(name)
        print(f"{r.id:12s} {r.title} ({r.max_points:g} points; grade ids: {', '.join(r.grade_ids)})")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("mark", help="mark a write-up (.md, .txt or .ipynb) against a rubric",
                              description="Mark a write-up against a rubric and print the rubric table. "
                                          "Marks are provisional: an educator confirms them.")
    p.add_argument("file", help="the write-up: a Markdown/text file, or a notebook (its rubric's grade_id cells)")
    p.add_argument("--rubric", required=True, help="rubric name (e.g. smart_aim, pdsa_plan, capstone) or YAML path")
    p.add_argument("--facts", help="JSON (or a JSON file) of facts from the learner's notebook, "
                                   "e.g. '{\"chart_signals\": [\"shift\"]}'")
    p.add_argument("--format", choices=["markdown", "html", "json"], default="markdown")
    p.set_defaults(func=_mark)

    r = subparsers.add_parser("rubric", help="validate or list rubric files")
    sub = r.add_subparsers(dest="rubric_command", metavar="ACTION")
    v = sub.add_parser("validate", help="check rubric YAML files (default: every file in grader/rubrics/)")
    v.add_argument("paths", nargs="*", metavar="PATH")
    v.set_defaults(func=_validate)
    sub.add_parser("list", help="list the rubrics").set_defaults(func=_list)
