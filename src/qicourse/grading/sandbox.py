"""Start warm grading workers, each inside one bubblewrap sandbox when `bwrap` (0.8 or newer) works here.

The sandbox sees the Python environment and the qicourse package read-only, the datasets
read-only, and a private tmpfs work area; not the repository, `solutions/`, the course directory
or the gradebook; no network. Inside it, every learner gets namespaces of their own
(`isolation.py`): everything they start is killed when their notebook ends, their folder, /tmp,
TMPDIR and /dev/shm are one private tmpfs capped at `Limits.scratch_bytes`, the rest of the file
system is read-only, and `Limits.max_processes` caps their processes (RLIMIT_NPROC, and a pids
cgroup per worker when grading runs as root, where the kernel ignores RLIMIT_NPROC).

Without bubblewrap there is no file-system isolation: learner code could read (glob) anything its
uid can, the course, solutions and gradebook included, and as root write anywhere. So `grade`
refuses a cohort unless the educator opts in (`qicourse grade --no-sandbox`, `allow_no_sandbox`);
then rlimits, a temporary directory, learner namespaces where the kernel allows them, an
unprivileged uid where Python stays readable to it, and every result's `sandbox` says "no sandbox".
"""

from __future__ import annotations

import os
import selectors
from collections import deque
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from qicourse.grading.worker import recv_message, send_message

NOBODY_UID = 65534


@dataclass
class Limits:
    """Resource limits for one submission."""

    cell_timeout: float = 30.0
    """seconds per cell (nbgrader's default), then the cell is interrupted"""
    notebook_timeout: float = 300.0
    """seconds for the whole notebook, then the process is killed"""
    memory_bytes: int = 1 << 30
    """extra address space a notebook may allocate (RLIMIT_AS above the warm worker's)"""
    max_output_bytes: int = 2 << 20
    """total bytes of output kept per notebook"""
    max_file_bytes: int = 50 << 20
    """largest file a notebook may write (RLIMIT_FSIZE)"""
    kill_grace: float = 5.0
    """seconds a cell may run past its limit before the process is killed"""
    scratch_bytes: int = 128 << 20
    """private tmpfs per learner holding their folder, /tmp, TMPDIR and /dev/shm (RAM, given back after)"""
    max_processes: int = 64
    """processes and threads a notebook may have at once (a fork bomb stops here)"""

    def __post_init__(self):
        for name in ("scratch_bytes", "max_processes", "max_file_bytes", "max_output_bytes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Limits.{name} must be positive, not {getattr(self, name)!r}")

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def bwrap_path() -> str | None:
    """The bubblewrap binary if it exists and works here (containers may forbid namespaces)."""
    if os.environ.get("QICOURSE_NO_BWRAP"):
        return None
    path = shutil.which("bwrap")
    if not path:
        return None
    # the same namespaces and capability as a worker, and the learner's namespaces inside (util-linux unshare)
    probe = [path, "--ro-bind", "/", "/", *_BWRAP_ISOLATION, "--proc", "/proc", "--dev", "/dev"]
    unshare = shutil.which("unshare")
    inner = [unshare, "--mount", "--pid", "--fork", "true"] if unshare else ["true"]
    return path if subprocess.run(probe + inner, capture_output=True).returncode == 0 else None


# Own user, PID, network, IPC, UTS and mount namespaces, killed with the grading process. CAP_SYS_ADMIN
# inside the sandbox's user namespace lets the worker give each learner namespaces of their own
# (isolation.py); the learner drops it. --disable-userns: no learner can make a user namespace, where
# they could mount an uncapped tmpfs (bubblewrap >= 0.8).
_BWRAP_ISOLATION = ["--unshare-all", "--die-with-parent", "--new-session", "--unshare-user", "--uid", "1000",
                    "--gid", "1000", "--cap-add", "CAP_SYS_ADMIN", "--disable-userns"]


def _package_root() -> Path:
    import qicourse

    return Path(qicourse.__file__).resolve().parent.parent


def _readonly_paths(hidden: list[Path]) -> tuple[list[str], list[str]]:
    """What the worker must see: the interpreter, the environment and the package; never `hidden`.

    Returns the folders to bind read-only, and the hidden folders inside them to cover with an empty
    tmpfs: an installed wheel carries the course's solutions and rubrics inside the package
    (`qicourse/_assets`), which is always hidden.
    """
    from qicourse.paths import PACKAGED_ASSETS

    hidden = [*hidden, PACKAGED_ASSETS.resolve()]
    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
                  Path(os.path.realpath(sys.executable)).parent.parent, _package_root()}
    for entry in sys.path:  # only the environment's own folders: the caller's sys.path may hold tests/ etc.
        if entry and os.path.isdir(entry) and any(Path(entry).resolve().is_relative_to(Path(p).resolve())
                                                  for p in (sys.prefix, sys.base_prefix)):
            candidates.add(Path(entry).resolve())
    keep = []
    for path in sorted(candidates):
        p = path.resolve()
        if any(p == h or h in p.parents for h in hidden):
            continue  # inside something learners must not read
        keep.append(str(p))
    # drop paths already covered by a kept parent
    keep = [p for p in keep if not any(q != p and p.startswith(q + os.sep) for q in keep)]
    covered = [str(h) for h in hidden if h.is_dir() and any(Path(k) in h.parents for k in keep)]
    return keep, covered


def _others_can_read(path: Path) -> bool:
    """Whether an unprivileged user can reach and read `path` (every parent searchable)."""
    import stat

    path = path.resolve()
    if not path.exists() or not os.stat(path).st_mode & stat.S_IROTH:
        return False
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _can_drop_privileges() -> bool:
    """Running as root without bwrap: learner code may run as `nobody` if Python and the packages stay readable."""
    if os.getuid() != 0:
        return False
    import sysconfig

    needed = {Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"]), _package_root()}
    return all(_others_can_read(p) for p in needed)


class PidsCgroup:
    """A pids cgroup for one worker and its learners: the kernel refuses fork() past `pids.max`.

    Needed when grading runs as root: the kernel never applies RLIMIT_NPROC to a real uid of root
    (`copy_process`, kernel/fork.c), and bubblewrap started by root maps the sandbox's uid to root.
    Uses the cgroup v1 pids hierarchy or cgroup v2 where this process may create cgroups;
    otherwise there is none and RLIMIT_NPROC (set by isolation.py) is what limits processes.
    """

    ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")

    def __init__(self, path: Path):
        self.path = path
        self.refused_before = 0

    @classmethod
    def create(cls, name: str) -> PidsCgroup | None:
        for root in cls.ROOTS:
            path = Path(root) / name
            try:
                path.mkdir()
            except OSError:
                continue
            if (path / "pids.max").is_file():
                return cls(path)
            path.rmdir()
        return None

    def join(self) -> None:
        """Move the calling process here (run in the worker's child before it executes bubblewrap)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def refused(self) -> int:
        """How many fork()s the limit has refused so far (`pids.events`)."""
        for line in (self.path / "pids.events").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "max":
                return int(value)
        return 0

    def limit(self, max_processes: int) -> None:
        """Allow `max_processes` beyond what the idle worker has now, plus the two isolation processes."""
        current = int((self.path / "pids.current").read_text())
        (self.path / "pids.max").write_text(str(current + 2 + int(max_processes)))
        self.refused_before = self.refused()

    def remove(self) -> None:
        """Delete the cgroup once the sandbox's last process is gone (bwrap's own die a moment after it)."""
        give_up = time.monotonic() + 5
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # still busy
                if time.monotonic() > give_up:
                    return
                time.sleep(0.02)


@dataclass
class Worker:
    proc: subprocess.Popen
    info: dict = field(default_factory=dict)
    task: dict | None = None
    tmp: str | None = None
    pids: PidsCgroup | None = None


class WorkerPool:
    """N warm workers; `run(tasks)` yields results as they finish (one writer consumes them)."""

    def __init__(self, workers: int, *, datasets_dir: Path | None, hidden: list[Path], use_bwrap: bool = True):
        self.n = max(1, int(workers))
        self.datasets_dir = Path(datasets_dir).resolve() if datasets_dir else None
        self.hidden = [Path(h).resolve() for h in hidden]
        self.bwrap = bwrap_path() if use_bwrap else None
        self.drop_uid = NOBODY_UID if (not self.bwrap and _can_drop_privileges()) else None
        self.sandbox = "bwrap" if self.bwrap else self._fallback_label()
        self.workers: list[Worker] = []
        self._started = 0
        self.startup_seconds: list[float] = []
        self._mpl_cache = self._prepare_mpl_cache()

    def _fallback_label(self) -> str:
        """What still holds without bubblewrap, recorded in every result: never file-system isolation."""
        from qicourse.grading.isolation import namespaces_available

        held = ["rlimits", "tempdir"]
        if namespaces_available():
            held.append("learner namespaces")  # per-learner kill and capped scratch
        held.append(f"uid {self.drop_uid if self.drop_uid else os.getuid()}")
        return f"no sandbox ({'+'.join(held)})"

    @staticmethod
    def _prepare_mpl_cache() -> str | None:
        """Matplotlib's font cache, built once here so sandboxed workers need not rebuild it."""
        try:
            import matplotlib

            return matplotlib.get_cachedir()
        except Exception:
            return None

    def _command(self, work_root: str) -> list[str]:
        py = [sys.executable, "-m", "qicourse.grading.worker"]
        if not self.bwrap:
            return py
        # --as-pid-1: the worker is the sandbox's PID 1. Otherwise bwrap's own reaper is PID 1, holding the
        # pipes to this process where learner code could open them through /proc/1/fd and forge results.
        cmd = [self.bwrap, *_BWRAP_ISOLATION, "--as-pid-1", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for top in ("usr", "lib", "lib64", "bin", "sbin"):
            src = Path("/") / top
            if src.is_symlink():
                cmd += ["--symlink", os.readlink(src), str(src)]
            elif src.is_dir():
                cmd += ["--ro-bind", str(src), str(src)]
        for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/fonts"):
            if os.path.exists(f):
                cmd += ["--ro-bind", f, f]
        shown, covered = _readonly_paths(self.hidden)
        for p in shown:
            cmd += ["--ro-bind", p, p]
        for p in covered:
            cmd += ["--tmpfs", p, "--remount-ro", p]
        if self.datasets_dir:
            cmd += ["--ro-bind", str(self.datasets_dir), "/data"]
        if self._mpl_cache and os.path.isdir(self._mpl_cache):
            cmd += ["--ro-bind", self._mpl_cache, "/mplcache"]
        cmd += ["--dir", work_root, "--chdir", work_root, "--setenv", "HOME", work_root]
        return cmd + py

    def _start_worker(self) -> Worker:
        if not self.bwrap and self.drop_uid is None:
            # learner code runs as this user: it must not open this process's pipes to the workers via /proc
            from qicourse.grading.tester import set_dumpable

            set_dumpable(False)
        if self.bwrap:
            tmp, work_root = None, "/tmp/work"
        else:
            tmp = tempfile.mkdtemp(prefix="qicourse-worker-")
            work_root = tmp
            if os.getuid() == 0:
                os.chmod(tmp, 0o755)
        env = dict(os.environ)
        env.update({"MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"})
        env.pop("QICOURSE_ROOT", None)
        self._started += 1
        pids = PidsCgroup.create(f"qicourse-{os.getpid()}-{self._started}") if os.getuid() == 0 else None
        proc = subprocess.Popen(self._command(work_root), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, cwd=tmp or "/", close_fds=True,
                                preexec_fn=pids.join if pids else None)
        child_env = {"MPLBACKEND": "Agg"}
        if self.bwrap and self.datasets_dir:
            child_env["QICOURSE_DATA"] = "/data"
        send_message(proc.stdin.fileno(), {"work_root": work_root, "env": child_env,
                                           "mpl_cache": "/mplcache" if self.bwrap else self._mpl_cache})
        return Worker(proc=proc, tmp=tmp, pids=pids)

    def launch(self) -> None:
        """Start the workers without waiting (they warm up while the writer prepares submissions)."""
        while len(self.workers) < self.n:
            self.workers.append(self._start_worker())

    def close(self) -> None:
        for w in self.workers:  # stateless between tasks: no need for a graceful shutdown
            self._stop(w)
        self.workers = []

    @staticmethod
    def _stop(w: Worker) -> None:
        w.proc.kill()
        w.proc.wait()
        if w.tmp:
            shutil.rmtree(w.tmp, ignore_errors=True)
        if w.pids:
            w.pids.remove()

    def __enter__(self):
        self.launch()
        return self

    def __exit__(self, *exc):
        self.close()

    def _dispatch(self, w: Worker, task: dict) -> None:
        task = dict(task)
        if not self.bwrap:
            if self.datasets_dir:
                task["datasets_copy_from"] = str(self.datasets_dir)
            if self.drop_uid is not None:
                task["drop_to_uid"] = self.drop_uid
        if w.pids:
            w.pids.limit(task["limits"]["max_processes"])
        w.task = task
        send_message(w.proc.stdin.fileno(), task)

    def run(self, tasks):
        """Run tasks (dicts with `id`, `cells`, `limits`) over the workers; yield (task, result) as they finish.

        `tasks` may be a lazy iterator: the next tasks are prepared while the workers are busy (or
        still warming up), so the writer's own work overlaps the learners' code.
        """
        it = iter(tasks)
        buffer: deque = deque()
        exhausted = False

        def take():
            nonlocal exhausted
            if buffer:
                return buffer.popleft()
            if not exhausted:
                try:
                    return next(it)
                except StopIteration:
                    exhausted = True
            return None

        sel = selectors.DefaultSelector()
        self.launch()
        idle: list[Worker] = []
        for w in self.workers:
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
            if w.info:
                idle.append(w)
        busy = 0
        try:
            while True:
                while idle:
                    task = take()
                    if task is None:
                        break
                    self._dispatch(idle.pop(), task)
                    busy += 1
                if busy == 0 and exhausted and not buffer:
                    return
                can_prepare = not exhausted and len(buffer) < 2 * self.n
                events = sel.select(timeout=0 if can_prepare else None)
                if not events:
                    if can_prepare:
                        try:
                            buffer.append(next(it))
                        except StopIteration:
                            exhausted = True
                    continue
                for key, _ in events:
                    w: Worker = key.data
                    msg = recv_message(w.proc.stdout.fileno())
                    if not w.info:  # the worker's hello: it has finished warming up
                        if not msg or not msg.get("ready"):
                            raise RuntimeError("a grading worker failed to start (is the qicourse package importable?)")
                        w.info = msg
                        self.startup_seconds.append(msg["startup_seconds"])
                        idle.append(w)
                        continue
                    task = w.task
                    if msg is None:  # the worker died: record it for this learner, start a fresh one
                        msg = {"id": task["id"], "cells": {}, "done": False, "killed": None, "exit": None,
                               "fatal": "the grading worker was killed while running this notebook", "seconds": 0}
                        sel.unregister(w.proc.stdout)
                        self._stop(w)
                        self.workers.remove(w)
                        fresh = self._start_worker()
                        self.workers.append(fresh)
                        sel.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)
                    else:
                        w.task = None
                        idle.append(w)
                        if w.pids and w.pids.refused() > w.pids.refused_before:
                            msg.setdefault("isolation", []).append(
                                f"process limit reached ({task['limits']['max_processes']} processes); "
                                f"{w.pids.refused() - w.pids.refused_before} fork() calls refused")
                    busy -= 1
                    msg["sandbox"] = self.sandbox
                    yield task, msg
        finally:
            sel.close()
