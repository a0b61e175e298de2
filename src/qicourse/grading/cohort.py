"""Fabricate a synthetic cohort of submissions for any assignment (demo, tests, benchmarks).

Kinds: full marks, partly wrong (some answers left as the stub), blank, errors (a syntax error in
an answer), and hostile notebooks, each built from the assignment's own source and released
notebooks, so it works for whatever is in `solutions/`.
"""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import nbformat

HOSTILE = (
    "infinite_loop", "kernel_death", "memory_bomb", "huge_output", "invalid_json", "wrong_nbformat",
    "deleted_test", "renamed_test", "edited_test", "deleted_setup", "other_assignment", "read_secrets",
    "monkeypatch",
)
# Attacks on the learners graded after this one by the same worker (not in every fabricated cohort:
# tests/test_hostile_isolation.py grades each with honest learners after it).
ISOLATION_ATTACKS = ("escaping_daemon", "tmp_flood", "fork_bomb")
_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _answer_indices(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if _meta(c).get("solution") and c.cell_type == "code"]


def solved(source_nb, release_nb, *, keep: set[str] | None = None, writeup: str | None = None):
    """The release notebook with answers filled in from the source (only grade ids in `keep`, if given)."""
    src = {_meta(c).get("grade_id"): c for c in source_nb.cells if _meta(c).get("solution")}
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid not in src or (keep is not None and gid not in keep):
            continue
        if cell.cell_type == "code":
            cell.source = _MARKERS.sub("", src[gid].source)
        elif writeup is not None:
            cell.source = writeup
        else:
            cell.source = _MARKERS.sub("", src[gid].source)
    return nb


def _insert_after_first_answer(nb, source: str):
    idx = _answer_indices(nb)
    at = (idx[0] + 1) if idx else len(nb.cells)
    nb.cells.insert(at, nbformat.v4.new_code_cell(source))
    return nb


def _first(nb, pred):
    return next((i for i, c in enumerate(nb.cells) if pred(c)), None)


def hostile(kind: str, source_nb, release_nb, *, secrets: list[str] = (), write_to: str = "/tmp/qicourse-escape"):
    """A correct notebook with one kind of hostile change; returns a NotebookNode, or raw text for broken files."""
    nb = solved(source_nb, release_nb)
    is_test = lambda c: _meta(c).get("grade") and not _meta(c).get("solution") and c.cell_type == "code"  # noqa: E731
    if kind == "infinite_loop":
        return _insert_after_first_answer(nb, "while True:\n    pass")
    if kind == "kernel_death":
        return _insert_after_first_answer(nb, "import os\nos._exit(1)")
    if kind == "memory_bomb":
        return _insert_after_first_answer(nb, "hog = [0.0] * (4 * 1024 ** 3)  # 32 GB of pointers")
    if kind == "huge_output":
        return _insert_after_first_answer(nb, "for _ in range(100_000):  # 10 MB, five times the output budget\n    print('x' * 100)")
    if kind == "invalid_json":
        return nbformat.writes(nb)[: len(nbformat.writes(nb)) // 2]
    if kind == "wrong_nbformat":
        data = json.loads(nbformat.writes(nb))
        data["nbformat"] = 99
        return json.dumps(data)
    if kind == "deleted_test":
        del nb.cells[_first(nb, is_test)]
        return nb
    if kind == "renamed_test":
        nb.cells[_first(nb, is_test)].metadata["nbgrader"]["grade_id"] = "my_renamed_cell"
        return nb
    if kind == "edited_test":
        nb.cells[_first(nb, is_test)].source = "# tests removed by the learner\npass"
        return nb
    if kind == "deleted_setup":
        i = _first(nb, lambda c: _meta(c).get("locked") and not _meta(c).get("grade") and c.cell_type == "code")
        if i is not None:
            del nb.cells[i]
        return nb
    if kind == "other_assignment":
        for c in nb.cells:
            if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]:
                c.metadata["nbgrader"]["grade_id"] = "other_" + c.metadata["nbgrader"]["grade_id"]
        return nb
    if kind == "read_secrets":
        lines = ["stolen = {}", "for p in " + repr(list(secrets)) + ":", "    try:",
                 "        stolen[p] = open(p, 'rb').read()[:200]", "    except Exception as e:",
                 "        stolen[p] = repr(e)", "print(stolen)",
                 "try:", f"    open({write_to!r}, 'w').write('escaped')", "    print('WROTE OUTSIDE')",
                 "except Exception as e:", "    print('write refused', repr(e))"]
        return _insert_after_first_answer(nb, "\n".join(lines))
    if kind == "monkeypatch":
        nb = copy.deepcopy(release_nb)  # wrong answers, trying to make the tests pass anyway
        return _insert_after_first_answer(nb, "\n".join([
            "import builtins, pandas.testing, numpy.testing",
            "pandas.testing.assert_series_equal = lambda *a, **k: None",
            "pandas.testing.assert_frame_equal = lambda *a, **k: None",
            "numpy.testing.assert_allclose = lambda *a, **k: None",
            "builtins.isinstance = lambda *a: True",
            "def len(x):\n    return 0",
            "builtins.abs = lambda x: 0",
            "import ast",  # and stop the hidden tests from running at all
            "class DropAsserts(ast.NodeTransformer):\n    def visit_Assert(self, node):\n        return ast.Pass()",
            "get_ipython().ast_transformers.append(DropAsserts())",
            "get_ipython().run_cell = lambda *a, **k: None",
        ]))
    if kind == "escaping_daemon":  # leaves its process group and session, then attacks whoever comes next
        return _insert_after_first_answer(nb, "\n".join([
            "import glob, os, signal, time",
            "if os.fork() == 0:",
            "    os.setsid()",
            "    if os.fork() == 0:",
            "        signal.signal(signal.SIGTERM, signal.SIG_IGN)",
            "        signal.signal(signal.SIGHUP, signal.SIG_IGN)",
            "        os.closerange(3, 4096)  # nothing ties it to the notebook any more",
            "        home = os.path.dirname(os.getcwd())  # the worker's folder of submissions",
            "        time.sleep(2)  # the notebook is over by now",
            "        for _ in range(150):",
            "            for pid in filter(str.isdigit, os.listdir('/proc')):",
            "                try:  # grading processes in this worker's folder: the worker, the next learners",
            "                    if int(pid) != os.getpid() and os.readlink(f'/proc/{pid}/cwd').startswith(home):",
            "                        os.kill(int(pid), signal.SIGKILL)",
            "                except OSError:",
            "                    pass",
            "            for folder in glob.glob(os.path.join(home, '*/')):",
            "                try:",
            "                    open(os.path.join(folder, 'pwned.txt'), 'w').write('daemon was here')",
            "                except OSError:",
            "                    pass",
            "            time.sleep(0.2)",
            "    os._exit(0)",
            "os.wait()",
        ]))
    if kind == "tmp_flood":  # 50 MB files into /tmp and its own folder until refused
        return _insert_after_first_answer(nb, "\n".join([
            "import os",
            "written = []",
            "for folder in ('/tmp', '.'):",
            "    for i in range(200):",
            "        path = os.path.join(folder, f'flood{i}.bin')",
            "        try:",
            "            with open(path, 'wb') as fh:",
            "                fh.write(b'x' * (50 << 20))",
            "            written.append(path)",
            "        except OSError as exc:",
            "            print('refused', path, exc.strerror)",
            "            break",
            "shmem = [l for l in open('/proc/meminfo') if l.startswith('Shmem:')]",
            "print('written', len(written), 'host', shmem[0].split()[1] if shmem else 'unknown', 'kB')",
        ]))
    if kind == "fork_bomb":  # every process forks again, 2**10 of them unless refused; all end by themselves
        return _insert_after_first_answer(nb, "\n".join([
            "import os, time",
            "children, is_child, refused = [], False, None",
            "try:",
            "    for _ in range(10):",
            "        pid = os.fork()",
            "        if pid == 0:",
            "            children, is_child = [], True",
            "        else:",
            "            children.append(pid)",
            "except OSError as exc:",
            "    refused = exc",
            "if is_child:",
            "    time.sleep(0.5)",
            "    os._exit(0)",
            "for pid in children:",
            "    os.waitpid(pid, 0)",
            "print('fork refused:', refused)",
        ]))
    raise ValueError(f"unknown hostile kind {kind!r}")


def fabricate(source_path: Path, release_path: Path, out_dir: Path, assignment: str, *, n: int = 30, seed: int = 1,
              secrets: list[str] = (), write_to: str = "/tmp/qicourse-escape",
              writeups: dict[str, str] | None = None) -> dict[str, str]:
    """Write `<out>/<student>/<assignment>/<notebook>` for n students; return student -> kind.

    The first students cover every hostile kind once, then full, blank, error and partly
    wrong notebooks fill the cohort.
    """
    rng = random.Random(seed)
    source_nb = nbformat.read(source_path, as_version=4)
    release_nb = nbformat.read(release_path, as_version=4)
    answers = [_meta(source_nb.cells[i]).get("grade_id") for i in _answer_indices(source_nb)]
    writeups = writeups or {}
    kinds = list(HOSTILE) + ["full", "blank", "error"]
    while len(kinds) < n:
        kinds.append(rng.choice(["full", "partly", "partly", "partly", "blank", "error"]))
    out = {}
    for k, kind in enumerate(kinds):
        student = f"s{k + 1:03d}_{kind}"
        text = rng.choice(list(writeups.values())) if writeups else None
        if kind == "full":
            nb = solved(source_nb, release_nb, writeup=writeups.get("good", text))
        elif kind == "blank":
            nb = copy.deepcopy(release_nb)
        elif kind == "partly":
            keep = {a for a in answers if rng.random() < 0.5}
            nb = solved(source_nb, release_nb, keep=keep, writeup=text)
        elif kind == "error":
            nb = solved(source_nb, release_nb, writeup=text)
            i = _answer_indices(nb)
            if i:
                nb.cells[i[0]].source += "\n    this is not python ("
        else:
            nb = hostile(kind, source_nb, release_nb, secrets=secrets, write_to=write_to)
        dest = Path(out_dir) / student / assignment
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / release_path.name
        if isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, str(path))
        out[student] = kind
    return out
