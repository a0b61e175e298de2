"""Is the project's shape what the README and design promise: dependencies in step, layers respected?"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PKG = REPO / "src" / "qicourse"

# What each part may import of ours (design.md: one direction of dependency).
ALLOWED = {
    "paths": set(),
    "data": {"paths"},
    "charts": {"paths"},
    "rubric": {"paths"},
    "tools": {"paths", "data", "charts"},
    "grading": {"paths", "rubric"},
    "widgets": {"paths", "data", "charts", "tools"},
}
TOP = {"cli", "demo", "layout", "__init__", "__main__"}


def _name_and_bound(req: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    """Does environment.yml list the same dependencies, with the same bounds, as pyproject.toml (plus the
    PostgreSQL driver of its postgres and test extras, whose pip extra [binary] conda-forge does not have)?"""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_name_and_bound(r) for r in project["dependencies"])
    driver = dict(_name_and_bound(r) for r in project["optional-dependencies"]["postgres"])
    assert driver.items() <= dict(_name_and_bound(r) for r in project["optional-dependencies"]["test"]).items()
    pip_deps.update({name: bound.replace("[binary]", "") for name, bound in driver.items()})
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["name"] == "qicourse"
    assert env["channels"] == ["conda-forge"]
    conda = {}
    pip_section = None
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section = dep["pip"]
            continue
        name, bound = _name_and_bound(dep)
        if name not in {"python", "pip"}:
            conda[name] = bound
    assert conda == pip_deps
    assert pip_section == ["-e ."], "environment.yml must pip-install this package"
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert py.replace(" ", "") == "python" + project["requires-python"]


def _our_imports(path: Path) -> set[str]:
    """Top-level parts of qicourse that a module imports (absolute or relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PKG).parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("qicourse."):
                    found.add(a.name.split(".")[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("qicourse."):
                found.add(node.module.split(".")[1])
            elif node.level == 0 and node.module == "qicourse":
                found.update(a.name for a in node.names)
            elif node.level > 0:
                base = list(rel[:-1])[: len(rel) - node.level]
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    found.add(target[0])
                else:
                    found.update(a.name for a in node.names)
    return found


def test_layers_import_only_downwards():
    """Does every part import only the parts below it (no cycles, nothing lower imports higher)?"""
    bad = []
    for path in sorted(PKG.rglob("*.py")):
        part = path.relative_to(PKG).parts[0].removesuffix(".py")
        if part in TOP:
            continue
        assert part in ALLOWED, f"{path}: new part {part!r} must be placed in a layer in this test"
        for used in _our_imports(path) - {part}:
            if used not in ALLOWED[part]:
                bad.append(f"{path.relative_to(REPO)} imports qicourse.{used}")
    assert not bad, "\n".join(bad)


def test_cli_help_lists_commands():
    """Does the installed `qicourse` command start and list its subcommands?"""
    out = subprocess.run([sys.executable, "-m", "qicourse.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "datasets" in out.stdout


def test_readme_states_the_two_commands():
    """Do the README's two fresh-machine commands exist as Makefile targets and in .ci/run?"""
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert re.search(r"^make test$", (REPO / ".ci" / "run").read_text(), re.M)


def test_committed_notebooks_are_stripped():
    """Are notebooks committed without outputs or execution counts (clean diffs, no stale results)?"""
    files = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True).stdout.split()
    import json

    noisy = []
    for f in files:
        nb = json.loads((REPO / f).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                noisy.append(f)
                break
    assert not noisy, f"notebooks with outputs: {noisy}"
