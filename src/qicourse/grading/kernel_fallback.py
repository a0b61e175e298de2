"""Execution where we do not fork (Windows, macOS): nbgrader's own kernel-based Execute, one
notebook after another, each in a fresh kernel and temporary folder.

Same interface as `sandbox.WorkerPool`, so `grade` and `check` keep one code path. There is no
file-system sandbox and no memory limit here; every result says so. Nor is there any guarantee
against forged results: test cells run in the learner's kernel, as in plain nbgrader, so learner
code can change what they report (the forked path runs them in a separate trusted process).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat


def can_fork() -> bool:
    """Warm forked workers on Linux; elsewhere nbgrader's kernels.

    macOS can fork, but forking a process that has loaded system frameworks is unsafe there
    (Python itself stopped doing it by default in 3.8), so it takes the kernel path unless
    QICOURSE_FORK=1.
    """
    if os.environ.get("QICOURSE_NO_FORK") or not hasattr(os, "fork"):
        return False
    return not sys.platform.startswith("darwin") or bool(os.environ.get("QICOURSE_FORK"))


class KernelRunner:
    sandbox = "kernel+tempdir (no sandbox on this platform)"

    def __init__(self, *, datasets_dir: Path | None):
        self.n = 1
        self.datasets_dir = Path(datasets_dir) if datasets_dir else None
        self.startup_seconds: list[float] = []

    def launch(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def run(self, tasks):
        for task in tasks:
            yield task, self._run_one(task)

    def _run_one(self, task: dict) -> dict:
        from nbgrader.preprocessors import Execute

        limits = task["limits"]
        nb = nbformat.reads(task["notebook_json"], as_version=4)
        wanted = {c["index"] for c in task["cells"]}
        tmp = Path(tempfile.mkdtemp(prefix="qicourse-kernel-"))
        saved_env = {k: os.environ.get(k) for k in ("QICOURSE_DATA", "MPLBACKEND")}
        started = time.perf_counter()
        fatal = None
        try:
            if self.datasets_dir and self.datasets_dir.is_dir():
                shutil.copytree(self.datasets_dir, tmp / "datasets")
                os.environ["QICOURSE_DATA"] = str(tmp / "datasets")
            os.environ["MPLBACKEND"] = "Agg"
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            ex = Execute(timeout=int(limits["cell_timeout"]))
            try:
                ex.preprocess(nb, {"metadata": {"path": str(tmp)}})
            except Exception as exc:  # kernel died or could not be interrupted
                fatal = f"{type(exc).__name__}: {str(exc).splitlines()[0][:150] if str(exc) else ''}"
        finally:
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(tmp, ignore_errors=True)
        cells = {}
        for i, cell in enumerate(nb.cells):
            if i not in wanted or (fatal and cell.execution_count is None):
                continue
            events = []
            if any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                events.append({"kind": "timeout", "detail": f"stopped after {limits['cell_timeout']:g} s"})
            cells[str(i)] = {"cell": i, "outputs": [dict(o) for o in cell.outputs],
                             "execution_count": cell.execution_count, "seconds": 0.0, "events": events}
        return {"id": task["id"], "cells": cells, "done": fatal is None, "fatal": fatal, "killed": None,
                "exit": None, "seconds": round(time.perf_counter() - started, 4), "sandbox": self.sandbox}
