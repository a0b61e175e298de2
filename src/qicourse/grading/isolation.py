"""One learner's notebook in its own PID and mount namespaces: nothing it starts outlives it.

`fork_learner` behaves like `os.fork()`: it returns 0 in the learner's process and a handle in
the worker. In between, a helper process enters new PID and mount namespaces (Linux
`unshare(2)`; Python 3.11 has no `os.unshare`, so libc through ctypes), makes every mount
private (so nothing propagates back), makes the inherited file system read-only, mounts a fresh
size-capped tmpfs on `/tmp` (which holds the notebook's working directory, `TMPDIR` and
`/dev/shm`), and forks the namespace's init. The init forks the learner (PID 2) and exits when
the learner does; by `pid_namespaces(7)`, when a namespace's init ends the kernel SIGKILLs every
other process in it, `setsid()` daemons and double forks included, so `kill_tree` returns only
once the whole tree is gone and the scratch memory is given back.

The learner drops every capability (the worker keeps CAP_SYS_ADMIN inside its bubblewrap user
namespace only to do the above) and gets RLIMIT_NPROC. The kernel does not apply RLIMIT_NPROC to
processes whose real uid is root outside every user namespace (`copy_process` in kernel/fork.c
exempts INIT_USER): bubblewrap started by root maps the sandbox uid to root, so there the pool
adds a pids cgroup per worker (`sandbox.PidsCgroup`).

Where namespaces are unavailable (no privilege, not Linux) `fork_learner` falls back to a
process group, which a `setsid()` daemon escapes; `namespaces_available()` says which applies.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import time
from dataclasses import dataclass, field

# <sched.h>, <sys/mount.h>, <linux/prctl.h>
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
PR_SET_PDEATHSIG, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SCRATCH_INODES = 20_000
"""files a learner may create in their scratch space (tmpfs inodes cost memory beyond `size=`)"""

_HANDLES: dict[int, int] = {}  # helper pid -> read end of the status pipe
_AVAILABLE: list[bool] = []


class IsolationError(OSError):
    """The learner's namespaces could not be set up (named step and errno)."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise IsolationError(err, f"{what}: {os.strerror(err)}")


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _call(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def namespaces_available() -> bool:
    """Whether this process may make new PID and mount namespaces (probed once, in a throwaway child)."""
    if not _AVAILABLE:
        ok = False
        if hasattr(os, "fork") and os.path.exists("/proc/self/ns/pid"):
            pid = os.fork()
            if pid == 0:
                os._exit(0 if _libc().unshare(CLONE_NEWNS | CLONE_NEWPID) == 0 else 1)
            _, status = os.waitpid(pid, 0)
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        _AVAILABLE.append(ok)
    return _AVAILABLE[0]


def _die_with_parent(libc) -> None:
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _kept_flags(path: str) -> int:
    """A mount's flags as mount(2) wants them back: a remount may not clear flags locked by a parent namespace."""
    have = os.statvfs(path).f_flag
    pairs = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
             (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))
    return MS_NOSUID | sum(ms for st, ms in pairs if have & st and ms != MS_NOSUID)


def _needed_under_tmp(workdir: str) -> list[str]:
    """What the learner needs from under /tmp, which its own tmpfs is about to cover: bubblewrap's
    read-only mounts there and the Python paths (a checkout or environment may live in /tmp)."""
    import sys

    work_root = os.path.dirname(os.path.realpath(workdir))
    found = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            found.add(line.split()[4].replace("\\040", " "))
    found |= {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, *sys.path) if p and os.path.exists(p)}
    under = sorted(p for p in found if p.startswith("/tmp/") and not p.startswith(work_root + "/")
                   and p != work_root and not work_root.startswith(p + "/"))
    outer = []
    for p in under:  # a path inside one already kept comes with it
        if not any(p == o or p.startswith(o + "/") for o in outer):
            outer.append(p)
    return outer


def _enter_namespaces(libc, workdir: str, scratch_bytes: int) -> None:
    """New PID + mount namespaces; read-only file system; a fresh capped tmpfs on /tmp holding `workdir`."""
    staged = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)  # still reachable once /tmp is covered
    needed = _needed_under_tmp(workdir)
    _call(libc.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here reaches the worker (or host)
    # a bubblewrap sandbox's /, /etc and /dev are tmpfs shared by the worker's learners, writable, uncapped
    for path in ("/", "/dev"):
        if os.path.ismount(path):
            _mount(libc, None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _kept_flags(path))
    kept = {path: os.open(path, os.O_PATH) for path in needed}  # opened in this namespace, before /tmp is covered
    _mount(libc, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(scratch_bytes)},nr_inodes={SCRATCH_INODES},mode=1777")
    for path, fd in kept.items():  # the Python environment and the course, when they live under /tmp
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount(libc, f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        _mount(libc, None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _kept_flags(path))
        os.close(fd)
    shm = "/tmp/.shm"
    os.mkdir(shm)
    os.chmod(shm, 0o1777)
    if os.path.isdir("/dev/shm"):  # POSIX shared memory and semaphores share the same cap
        _mount(libc, shm, "/dev/shm", None, MS_BIND)
    os.fchdir(staged)
    os.close(staged)
    os.makedirs(workdir)
    shutil.copytree(".", workdir, dirs_exist_ok=True)  # "." is the staged folder under the covered /tmp
    st = os.stat(".")
    if st.st_uid != os.getuid():  # keep the owner the worker gave the files (a dropped uid)
        for root, dirs, files in os.walk(workdir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, st.st_uid, st.st_gid)
    os.chdir("/")


def _drop_capabilities(libc) -> None:
    """The learner keeps no capability (capset(2) with empty sets; ambient ones cleared first)."""
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable x 2 words, all zero
    _call(libc.capset(header, data), "capset")


def _tasks_of_uid() -> int:
    """Threads of our uid visible in /proc: RLIMIT_NPROC counts them all, the worker's included."""
    n, uid = 0, os.getuid()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return n


def _init(libc, status_w: int, max_processes: int, base_tasks: int) -> None:
    """PID 1 of the learner's namespace: fork the learner, reap orphans, end with the learner.
    Returns only in the learner."""
    import resource  # POSIX only, like this whole path

    learner = os.fork()
    if learner == 0:
        os.close(status_w)
        limit = base_tasks + int(max_processes)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        if os.getuid() != 0:  # root (the unsandboxed fallback) drops everything when it switches uid
            _drop_capabilities(libc)
        return
    while True:  # orphans reparent to us; the kernel kills the rest when we exit
        pid, status = os.wait()
        if pid != learner:
            continue
        left = False  # any child still running once the zombies are reaped: what the learner left behind
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
            left = True
        except ChildProcessError:
            pass
        os.write(status_w, f"status {status} {int(left)}\n".encode())
        os._exit(0)


def _scratch_report(status_w: int) -> None:
    """How full the learner's scratch tmpfs got (read by the helper, which keeps it mounted until it exits)."""
    st = os.statvfs("/tmp")
    os.write(status_w, f"scratch {(st.f_blocks - st.f_bfree) * st.f_frsize} {st.f_blocks * st.f_frsize}\n".encode())


def _helper(libc, workdir, scratch_bytes, max_processes, status_w, ready_w) -> None:
    """Enter the namespaces, fork their init, wait for it. Returns only in the learner; exits otherwise."""
    code = 1
    try:
        _die_with_parent(libc)
        _enter_namespaces(libc, workdir, scratch_bytes)
        base = _tasks_of_uid()
        init = os.fork()
        if init == 0:
            os.close(ready_w)
            _die_with_parent(libc)
            _init(libc, status_w, max_processes, base)
            return  # in the learner
        pidfd = os.pidfd_open(init)  # signals it safely even once reaped (no pid reuse)

        def kill_init(*_):  # kill_tree's SIGTERM
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

        signal.signal(signal.SIGTERM, kill_init)
        os.write(ready_w, f"{init}".encode())
        os.close(ready_w)
        os.waitpid(init, 0)  # returns once the init and every process of its namespace are gone
        _scratch_report(status_w)
        code = 0
    except BaseException as exc:  # the worker reports it; the learner never runs
        try:
            os.write(ready_w, f"error {exc}".encode())
        except OSError:
            pass
    os._exit(code)


def _max_fd() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fork_learner(workdir: str, *, scratch_bytes: int, max_processes: int, pass_fds: tuple[int, ...] = ()) -> int:
    """Like `os.fork()`: 0 in the learner's process; in the worker, a handle to pass to `kill_tree`.

    `workdir` (prepared by the worker) is copied into the learner's private scratch tmpfs at the
    same path. Only `pass_fds` (and 0-2) reach the namespace's processes: a socket whose other end the
    worker hands on must not stay open in the helper or the init. Raises IsolationError if the namespaces
    cannot be set up although they are available.
    """
    if not namespaces_available():
        import resource

        pid = os.fork()
        if pid == 0:
            os.setsid()  # a process group for kill_tree; a setsid() daemon escapes it
            resource.setrlimit(resource.RLIMIT_NPROC, (int(max_processes), int(max_processes)))
            return 0
        return pid
    libc = _libc()
    status_r, status_w = os.pipe()
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        os.close(status_r)
        os.close(ready_r)
        keep = sorted({status_w, ready_w, *pass_fds})
        for low, high in zip([2, *keep], [*keep, _max_fd()]):
            os.closerange(low + 1, high)
        _helper(libc, workdir, scratch_bytes, max_processes, status_w, ready_w)
        return 0  # only the learner gets here
    os.close(status_w)
    os.close(ready_w)
    msg = b""
    while chunk := os.read(ready_r, 4096):
        msg += chunk
    os.close(ready_r)
    if not msg.isdigit():
        os.close(status_r)
        os.waitpid(helper, 0)
        raise IsolationError(0, f"learner sandbox not set up: {msg.decode(errors='replace').removeprefix('error ')}")
    _HANDLES[helper] = status_r
    return helper


@dataclass
class Ended:
    """How a learner's process tree ended."""

    status: int
    """the learner process's wait status (as from os.waitpid); killed here reads as SIGKILL"""
    notes: list[str] = field(default_factory=list)
    """plain-language notes for the educator: scratch space full, processes left running"""


def kill_tree(handle: int, grace: float = 0.0) -> Ended:
    """Kill the learner and everything it started, reap them, and say how it ended.

    With `grace`, a learner that is ending on its own (its tester hung up) gets that long to do so, so
    that its namespace's init can still report what it left running.
    """
    if handle not in _HANDLES:  # process-group fallback
        try:
            os.killpg(handle, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return Ended(os.waitpid(handle, 0)[1])
    status_r = _HANDLES.pop(handle)
    give_up = time.monotonic() + grace
    while not os.waitpid(handle, os.WNOHANG)[0]:
        if time.monotonic() >= give_up:
            os.kill(handle, signal.SIGTERM)  # the helper SIGKILLs the init
            os.waitpid(handle, 0)
            break
        time.sleep(0.005)
    raw = b""
    while chunk := os.read(status_r, 4096):
        raw += chunk
    os.close(status_r)
    ended = Ended(signal.SIGKILL)
    for line in raw.decode().splitlines():
        kind, *values = line.split()
        if kind == "status":
            ended.status = int(values[0])
            if values[1] == "1":
                ended.notes.append("processes it left running were killed when it ended")
        elif kind == "scratch":
            used, size = int(values[0]), int(values[1])
            if size - used < max(1 << 20, size // 100):
                ended.notes.append(f"scratch space full ({size >> 20} MB for its folder, /tmp and TMPDIR); "
                                   "writes beyond it were refused")
    return ended
