"""A warm grading worker: `python -m qicourse.grading.worker`, usually inside one bubblewrap sandbox.

Talks to the grading process over its stdin/stdout with length-prefixed JSON (nothing learner code
could forge into a pickle). For every task it makes a fresh sub-directory, forks a child that runs
the learner's cells (`executor.WarmRunner.child_main`) in its own namespaces with capped scratch
space (`isolation.fork_learner`), collects one JSON line per cell, kills the child and everything it
started at the time limit or when it ends, and reports what happened, including a child that died.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import sys
import time

from qicourse.grading.isolation import fork_learner, kill_tree

_HEADER = struct.Struct("!Q")


def send_message(fd: int, msg: dict) -> None:
    data = json.dumps(msg, default=str).encode()
    payload = _HEADER.pack(len(data)) + data
    view = memoryview(payload)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_message(fd: int) -> dict | None:
    head = _read_exact(fd, _HEADER.size)
    if head is None:
        return None
    (size,) = _HEADER.unpack(head)
    body = _read_exact(fd, size)
    return None if body is None else json.loads(body)


def _max_rss_mb(who: str = "RUSAGE_SELF") -> float:
    import resource  # POSIX only, like the worker itself

    return resource.getrusage(getattr(resource, who)).ru_maxrss / 1024


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if its worker dies, so learner code never runs on unattended."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_task(runner, task: dict, work_root: str) -> dict:
    """Fork a child for one notebook and gather its per-cell results."""
    workdir = os.path.join(work_root, f"s{task['id']}")
    os.makedirs(workdir)
    data_src = task.get("datasets_copy_from")
    if data_src and os.path.isdir(data_src):
        shutil.copytree(data_src, os.path.join(workdir, "datasets"))
        task.setdefault("env", {})["QICOURSE_DATA"] = os.path.join(workdir, "datasets")
    if task.get("notebook_name"):
        with open(os.path.join(workdir, task["notebook_name"]), "w") as fh:
            fh.write(task.get("notebook_json", "{}"))
    if task.get("drop_to_uid") is not None:
        for dirpath, _dirs, files in os.walk(workdir):
            os.chown(dirpath, task["drop_to_uid"], task["drop_to_uid"])
            for f in files:
                os.chown(os.path.join(dirpath, f), task["drop_to_uid"], task["drop_to_uid"])
    task["workdir"] = workdir
    limits = task["limits"]
    started = time.perf_counter()
    r, w = os.pipe()
    # own PID + mount namespaces and capped scratch (isolation.py): nothing it starts outlives it
    pid = fork_learner(workdir, scratch_bytes=int(limits["scratch_bytes"]), max_processes=int(limits["max_processes"]))
    if pid == 0:  # the child: learner code runs here only
        _die_with_parent()
        os.close(r)
        for fd in _PROTOCOL_FDS:
            os.close(fd)
        runner.child_main(task, w)  # never returns
    os.close(w)
    cells: dict[int, dict] = {}
    buf = b""
    done, fatal, killed = False, None, None
    facts: dict = {}
    cell_started = time.perf_counter()
    deadline = started + float(limits["notebook_timeout"])
    cell_grace = float(limits["cell_timeout"]) + float(limits.get("kill_grace", 5))
    while True:
        now = time.perf_counter()
        wait = min(deadline - now, cell_started + cell_grace - now)
        if wait <= 0:
            killed = ("notebook time limit" if now >= deadline else "cell ignored its time limit")
            break
        ready, _, _ = select.select([r], [], [], wait)
        if not ready:
            continue
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                msg = json.loads(line)
            except ValueError:
                fatal = "the grading channel was corrupted by the notebook"
                continue
            if not isinstance(msg, dict):
                fatal = "the grading channel was corrupted by the notebook"
            elif msg.get("done"):
                done = True
            elif isinstance(msg.get("facts"), dict):
                facts = msg["facts"]
            elif "fatal" in msg:
                fatal = str(msg["fatal"])
            elif "cell" in msg:
                cells[int(msg["cell"])] = msg
                cell_started = time.perf_counter()
    os.close(r)
    ended = kill_tree(pid)  # the notebook and its leftovers: subprocesses, forks, setsid() daemons
    status = ended.status
    exit_info = None
    if os.WIFSIGNALED(status):
        exit_info = f"killed by signal {os.WIFSIGNALED(status) and os.WTERMSIG(status)}"
    elif os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0:
        exit_info = f"exit code {os.WEXITSTATUS(status)}"
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "id": task["id"], "cells": cells, "done": done and not killed, "fatal": fatal, "killed": killed,
        "exit": exit_info, "seconds": round(time.perf_counter() - started, 4), "facts": facts,
        "isolation": ended.notes,
    }


_PROTOCOL_FDS: list[int] = []


def main() -> int:
    # Private copies of the pipes to the grading process; fds 0-2 point at /dev/null for learner code.
    proto_in, proto_out = os.dup(0), os.dup(1)
    _PROTOCOL_FDS[:] = [proto_in, proto_out]
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    t0 = time.perf_counter()
    config = recv_message(proto_in) or {}
    os.environ.update(config.get("env", {}))
    mpl_src = config.get("mpl_cache")
    if mpl_src and os.path.isdir(mpl_src):
        dest = os.path.join(config["work_root"], ".mplconfig")
        shutil.copytree(mpl_src, dest, dirs_exist_ok=True)
        os.environ["MPLCONFIGDIR"] = dest
    from qicourse.grading.executor import WarmRunner

    runner = WarmRunner()
    send_message(proto_out, {"ready": True, "startup_seconds": round(time.perf_counter() - t0, 3),
                             "rss_mb": round(_max_rss_mb(), 1), "pid": os.getpid()})
    while True:
        task = recv_message(proto_in)
        if task is None or task.get("quit"):
            return 0
        try:
            result = run_task(runner, task, config["work_root"])
        except Exception as exc:  # the worker itself must survive any one task
            result = {"id": task.get("id"), "cells": {}, "done": False, "fatal": f"worker error: {exc!r}",
                      "killed": None, "exit": None, "seconds": 0}
        result["worker_rss_mb"] = round(_max_rss_mb(), 1)
        result["child_rss_mb"] = round(_max_rss_mb("RUSAGE_CHILDREN"), 1)
        send_message(proto_out, result)


if __name__ == "__main__":
    sys.exit(main())
