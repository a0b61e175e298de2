"""A warm grading worker: `python -m qicourse.grading.worker`, usually inside one bubblewrap sandbox.

Talks to the grading process over its stdin/stdout with length-prefixed JSON (nothing learner code
could forge into a pickle). For every task it makes a fresh sub-directory and forks two children:
the learner process L (`executor.WarmRunner.learner_main`), in its own PID and mount namespaces with
capped scratch space (`isolation.fork_learner`), which keeps only its socket to the tester; and the
trusted tester T (`tester`), which runs the test cells, keeps the time limits and is the only one that
writes results here (a pipe made after L was forked). The worker collects T's JSON lines, kills both at
the notebook's time limit (or when T itself stalls), kills L and everything it started when it ends,
and reports what happened, including a learner process that died. Neither the worker nor T can be
read or traced by L (`PR_SET_DUMPABLE` off), though they run as the same user inside the sandbox.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import sys
import time

from qicourse.grading.isolation import fork_learner, kill_tree
from qicourse.grading.tester import set_dumpable

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


def _fork_learner(workdir: str, limits: dict, sock_fd: int) -> int:
    """Fork the learner process (0 in the child): the one place it is forked, in its own namespaces,
    holding only its socket to the tester (so it sees the tester hang up)."""
    return fork_learner(workdir, scratch_bytes=int(limits["scratch_bytes"]), max_processes=int(limits["max_processes"]),
                        pass_fds=(sock_fd,))


def _max_fd() -> int:
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def run_task(runner, task: dict, work_root: str) -> dict:
    """Fork the learner process and the tester for one notebook and gather the tester's per-cell results."""
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
    to_learner, to_tester = socket.socketpair()
    # own PID + mount namespaces and capped scratch (isolation.py): nothing it starts outlives it
    learner = _fork_learner(workdir, limits, to_tester.fileno())
    if learner == 0:  # the learner process: learner code runs here only
        os.setpgid(0, 0)  # its own process group, so anything it starts is killed with it
        _die_with_parent()
        set_dumpable(True)  # its own /proc/self stays readable to it; the worker and T stay closed to it
        keep = to_tester.fileno()
        os.closerange(3, keep)  # the worker's channel, and any other fd, are gone before learner code runs
        os.closerange(keep + 1, _max_fd())
        runner.learner_main(task, keep)  # never returns
    to_tester.close()
    r, w = os.pipe()  # made after L was forked: L never had it
    tester = os.fork()
    if tester == 0:  # the trusted tester: never runs learner code
        _die_with_parent()
        os.close(r)
        for fd in _PROTOCOL_FDS:
            os.close(fd)
        runner.tester_main(task, to_learner.fileno(), w, learner)  # never returns
    to_learner.close()
    os.close(w)
    cells: dict[int, dict] = {}
    buf = b""
    done, fatal, killed, stopped = False, None, None, None
    facts: dict = {}
    cell_started = time.perf_counter()
    deadline = started + float(limits["notebook_timeout"])
    # T keeps the cell limit itself; this only catches a tester that stalls
    cell_grace = float(limits["cell_timeout"]) + float(limits.get("kill_grace", 5)) + 5
    while True:
        now = time.perf_counter()
        wait = min(deadline - now, cell_started + cell_grace - now)
        if wait <= 0:
            killed = ("notebook time limit" if now >= deadline else "the grader stopped responding")
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
            msg = json.loads(line)  # only T writes here
            if msg.get("done"):
                done = True
            elif isinstance(msg.get("facts"), dict):
                facts = msg["facts"]
            elif "fatal" in msg:
                fatal = str(msg["fatal"])
            elif "stopped" in msg:
                stopped = msg["stopped"]
            elif "cell" in msg:
                cells[int(msg["cell"])] = msg
                cell_started = time.perf_counter()
    os.close(r)
    try:
        os.kill(tester, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(tester, 0)
    ended = kill_tree(learner, grace=0.0 if killed else 1.0)  # the notebook and its leftovers: subprocesses, forks, setsid() daemons
    exit_info = None
    if not stopped and not done and not killed:  # the learner process ended on its own: say how
        if os.WIFSIGNALED(ended.status):
            exit_info = f"killed by signal {os.WTERMSIG(ended.status)}"
        elif os.WIFEXITED(ended.status) and os.WEXITSTATUS(ended.status) != 0:
            exit_info = f"exit code {os.WEXITSTATUS(ended.status)}"
    if os.getpid() == 1:  # the sandbox's PID 1 (bwrap --as-pid-1): end and reap whatever the notebook left behind
        try:
            os.kill(-1, signal.SIGKILL)  # every process in the sandbox but this one
        except ProcessLookupError:
            pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "id": task["id"], "cells": cells, "done": done and not killed, "fatal": fatal, "killed": killed,
        "exit": exit_info, "seconds": round(time.perf_counter() - started, 4), "facts": facts, "stopped": stopped,
        "isolation": ended.notes,
    }


_PROTOCOL_FDS: list[int] = []


def main() -> int:
    # Private copies of the pipes to the grading process; fds 0-2 point at /dev/null for learner code.
    set_dumpable(False)  # learner processes run as this user: they must not trace it or open its fds
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
