"""The learner process: runs a notebook's answer, locked and ordinary cells in an in-process IPython shell.

Replaces only nbgrader's kernel-based `Execute` step: a warm worker (pandas, matplotlib, numpy,
IPython and qicourse already imported) forks, per submission, this learner process L and the
trusted tester T (`tester`), so nothing leaks between learners and nobody pays kernel start-up.
L records nbformat outputs exactly as a kernel would (stream, execute_result, display_data,
error). It never sees a test cell: T sends it the other cells one at a time, asks it for the
values of names a test uses (as plain data, `plain`), and calls learner functions through it.
Whatever L reports is display or data; it decides no mark.

Limits in L: extra address space (RLIMIT_AS), file size (RLIMIT_FSIZE), total output bytes, and
a SIGALRM at the cell's time limit, only so the learner sees a readable traceback: the limit
itself is kept by T, which kills L. Learner changes to the modules and the shell L relies on are
undone after every cell and reported (a hint for the educator; marks never depend on it).
`sys.stdout`/`sys.stderr` are not protected: legitimate code swaps them, so the capture is
quietly put back before every cell instead.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import sys
import time
import warnings

# Modules whose attributes hidden tests use; a learner who monkeypatches them is undone and reported.
PROTECTED_MODULES = ("builtins", "math", "numpy", "numpy.testing", "pandas", "pandas.testing", "unittest",
                     "json", "signal", "time", "os", "io")
PROTECTED_CLASSES = (("pandas", "Series"), ("pandas", "DataFrame"), ("pandas", "Index"))
class CellTimeoutError(BaseException):
    """Raised in learner code when a cell runs past its time limit (BaseException: `except Exception` cannot swallow it)."""


class _Outputs:
    """nbformat outputs of the running cell, with a byte budget shared by the whole notebook."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.cell: list[dict] = []
        self.truncated = False

    def _take(self, n: int) -> bool:
        if self.used + n > self.budget:
            self.truncated = True
            return False
        self.used += n
        return True

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        if not self._take(len(text)):
            room = self.budget - self.used
            if room <= 0:
                return
            text = text[:room]
            self.used = self.budget
        last = self.cell[-1] if self.cell else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["chunks"].append(text)  # joined once per cell: += on a growing str is quadratic
        else:
            self.cell.append({"output_type": "stream", "name": name, "chunks": [text]})

    def finished_cell(self) -> list[dict]:
        for out in self.cell:
            if "chunks" in out:
                out["text"] = "".join(out.pop("chunks"))
        return self.cell

    def add(self, output: dict) -> None:
        size = len(json.dumps(output, default=str))
        if output["output_type"] == "error" or self._take(size):
            self.cell.append(output)


class _Discard(io.TextIOBase):
    """Where a learner function's prints go while a test calls it."""

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        return len(s)


class _Stream(io.TextIOBase):
    def __init__(self, sink: _Outputs, name: str):
        self._sink, self.name = sink, name

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        if self._sink.used >= self._sink.budget:  # fast path for a runaway print loop
            self._sink.truncated = True
            return len(s)
        s = str(s)
        self._sink.stream(self.name, s)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def make_shell(sink: _Outputs):
    """An IPython shell whose displays, results and tracebacks become nbformat outputs in `sink`."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            sink.add({"output_type": "display_data", "data": data, "metadata": metadata or {}})

        def clear_output(self, wait=False):
            sink.cell.clear()

    class Hook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink.add({"output_type": "execute_result", "data": format_dict, "metadata": md_dict or {},
                      "execution_count": self.shell.execution_count})

        def finish_displayhook(self):
            pass

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        error_output = None
        """set in the tester: its test cells' errors become type and message only"""

        def showtraceback(self, exc_tuple=None, *args, **kwargs):
            if self.error_output is not None:
                sink.add(self.error_output(exc_tuple or sys.exc_info()))
                return
            etype = (exc_tuple or sys.exc_info())[0]
            if etype is not None and issubclass(etype, MemoryError):
                # formatting a traceback needs memory we no longer have: free the reserve, report simply
                _RESERVE.clear()
                sink.add({"output_type": "error", "ename": "MemoryError", "evalue": "out of memory",
                          "traceback": ["MemoryError: the notebook used more memory than it is allowed"]})
                return
            return super().showtraceback(exc_tuple, *args, **kwargs)

        def showsyntaxerror(self, *args, **kwargs):
            if self.error_output is not None:
                sink.add(self.error_output(sys.exc_info()))
                return
            return super().showsyntaxerror(*args, **kwargs)

        def _showtraceback(self, etype, evalue, stb):
            sink.add({"output_type": "error", "ename": getattr(etype, "__name__", str(etype)),
                      "evalue": str(evalue), "traceback": list(stb)})

        def enable_gui(self, gui=None):
            pass

    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "nocolor"
    cfg.InteractiveShell.autoindent = False
    cfg.InteractiveShell.automagic = False
    return Shell(config=cfg)


def _course_modules() -> list[str]:
    """Every qicourse module a notebook or a hidden test may use (not the grader itself)."""
    import pkgutil

    import qicourse

    names = []
    for info in pkgutil.walk_packages(qicourse.__path__, "qicourse."):
        if any(part in info.name for part in (".grading", ".cli", ".demo", "__main__")):
            continue
        try:
            __import__(info.name)
        except Exception:  # a part still being written must not stop grading
            continue
        names.append(info.name)
    return names


def _snapshot_modules(course_modules: list[str]) -> dict:
    snap = {}
    for name in PROTECTED_MODULES:
        mod = sys.modules.get(name)
        if mod is not None:
            snap[name] = (mod, dict(vars(mod)))
    for name in course_modules:  # functions and classes only: module-level caches may be rebound legitimately
        mod = sys.modules[name]
        snap[name] = (mod, {k: v for k, v in vars(mod).items()
                            if callable(v) and not isinstance(v, type(sys)) and not k.startswith("__")})
    for modname, clsname in PROTECTED_CLASSES:
        mod = sys.modules.get(modname)
        cls = getattr(mod, clsname, None) if mod else None
        if cls is not None:
            snap[f"{modname}.{clsname}"] = (cls, dict(vars(cls)))
    return snap


def _restore_modules(snap: dict) -> list[str]:
    """Undo learner changes to protected modules/classes; return what was changed."""
    changed = []
    for label, (obj, saved) in snap.items():
        current = vars(obj)
        is_class = isinstance(obj, type)
        for key, value in saved.items():
            if current.get(key, _MISSING) is not value:
                changed.append(f"{label}.{key}")
                setattr(obj, key, value)
        if is_class:
            for key in [k for k in current if k not in saved]:
                if any(key in vars(base) for base in obj.__mro__[1:]):  # an override of an inherited attribute
                    changed.append(f"{label}.{key}")
                    delattr(obj, key)
    return changed


#: shell attributes that decide what runs and what is recorded; replacing one is tampering
MACHINERY_NAMES = frozenset({
    "custom_exceptions", "CustomTB", "InteractiveTB", "SyntaxTB", "ast_transformers", "input_transformers_post",
    "input_transformer_manager", "displayhook", "display_pub", "display_formatter", "compile"})


def _snapshot_machinery(shell, objects) -> dict:
    """The grading shell and output capture as they are before learner code: classes, instance state, hook lists.

    Learner code runs in this process, so it could otherwise stop test cells from running or their
    failures from being recorded (`get_ipython().run_cell = ...`, an AST transformer dropping asserts,
    `set_custom_exc`, patching the output sink) and every hidden test would pass.
    """
    classes, instances, lists = {}, {}, {}
    for obj in (shell, shell.displayhook, shell.display_pub, *objects):
        for cls in type(obj).__mro__:
            if cls is not object:
                classes[f"{cls.__module__}.{cls.__qualname__}"] = (cls, dict(vars(cls)))
        instances[type(obj).__name__] = (obj, dict(vars(obj)), dict(getattr(obj, "_trait_values", {})))
    manager = shell.input_transformer_manager
    for label, lst in (("ast_transformers", shell.ast_transformers),
                       ("input_transformers_post", shell.input_transformers_post),
                       *((f"input_transformer_manager.{n}", getattr(manager, n)) for n in
                         ("cleanup_transforms", "line_transforms", "token_transformers") if hasattr(manager, n))):
        lists[label] = (lst, list(lst))
    return {"classes": classes, "instances": instances, "lists": lists}


def _restore_machinery(snap: dict) -> list[str]:
    """Undo learner changes to the grading machinery; return what was changed."""
    changed = _restore_modules(snap["classes"])
    for label, (obj, saved, traits) in snap["instances"].items():
        current = vars(obj)
        for key in [k for k in current if k not in saved]:  # an instance attribute over a method
            value = current[key]
            own = getattr(value, "__self__", None) is obj and getattr(value, "__func__", None) is getattr(type(obj), key, None)
            if key in MACHINERY_NAMES or (callable(value) and hasattr(type(obj), key) and not own):
                changed.append(f"{label}.{key}")
                delattr(obj, key)
        for store, old in ((current, saved), (getattr(obj, "_trait_values", {}), traits)):
            for key in MACHINERY_NAMES & old.keys():
                if store.get(key, _MISSING) is not old[key]:
                    changed.append(f"{label}.{key}")
                    store[key] = old[key]
    for label, (lst, saved) in snap["lists"].items():
        if len(lst) != len(saved) or any(a is not b for a, b in zip(lst, saved)):
            changed.append(label)
            lst[:] = saved
    return changed


_MISSING = object()
_RESERVE: list[bytearray] = []
_ACCESS: list[str] = []


def _watch_file_access(workdir: str, readable: list[str]) -> None:
    """Note (never block: the sandbox does that) opens outside the notebook's folder and the environment.

    An audit hook cannot be removed by the code it watches (PEP 578).
    """
    roots = tuple(os.path.join(os.path.realpath(r), "") for r in readable if r)
    home = os.path.join(os.path.realpath(workdir), "")
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND

    def hook(event, args):
        if event != "open" or len(_ACCESS) >= 5:
            return
        path, mode, flags = (list(args) + [None, None])[:3]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        full = os.path.join(os.path.abspath(os.fsdecode(path)), "")
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and bool(flags & write_flags))
        if full.startswith(home) or full.startswith(("/dev/", "/proc/self/")):
            return
        if writing:
            _ACCESS.append(f"write {full.rstrip('/')}")
        elif not full.startswith(roots):
            _ACCESS.append(f"read {full.rstrip('/')}")

    sys.addaudithook(hook)


class WarmRunner:
    """Lives in the warm worker: imports and the shell are made once; each forked child runs one notebook."""

    def __init__(self):
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
        import numpy  # noqa: F401
        import numpy.testing  # noqa: F401
        import pandas  # noqa: F401
        import pandas.testing  # noqa: F401
        import unittest  # noqa: F401
        import math  # noqa: F401

        course_modules = _course_modules()
        self.sink = _Outputs(0)
        self.shell = make_shell(self.sink)
        self.snapshot = _snapshot_modules(course_modules)

    _stream_class = _Stream

    # ---- in the tester T ---------------------------------------------------------------------
    def tester_main(self, task: dict, sock_fd: int, out_fd: int, learner_pid: int) -> None:
        """Drive the learner process and run the test cells here (see `tester`). Never returns."""
        from qicourse.grading.tester import Tester

        Tester(self, task, sock_fd, out_fd, learner_pid).main()

    # ---- in the learner process L ---------------------------------------------------------------
    def learner_main(self, task: dict, sock_fd: int) -> None:
        """Serve the tester's requests (run a cell, give values, call a function) until it hangs up. Never returns."""
        import socket

        try:
            sock = socket.socket(fileno=sock_fd)
            self._child_setup(task)
            self._serve(task, sock)
        except BaseException:  # the tester notices the closed socket and reports it
            pass
        finally:
            os._exit(0)

    def _child_setup(self, task: dict) -> None:
        import resource  # POSIX only: the forked child exists only there

        limits = task["limits"]
        os.chdir(task["workdir"])
        os.environ.update(task.get("env", {}))
        os.environ["HOME"] = task["workdir"]
        os.environ["TMPDIR"] = task["workdir"]  # temporary files stay in the notebook's own (throwaway) folder
        import tempfile

        tempfile.tempdir = task["workdir"]
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing past the limit raises OSError instead
        signal.signal(signal.SIGINT, signal.default_int_handler)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        fsize = int(limits["max_file_bytes"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        _RESERVE.append(bytearray(16 << 20))  # freed when a MemoryError must be reported
        if limits.get("memory_bytes") and os.path.exists("/proc/self/statm"):  # Linux: limit above what is mapped now
            with open("/proc/self/statm") as fh:
                vsz = int(fh.read().split()[0]) * resource.getpagesize()
            cap = vsz + int(limits["memory_bytes"])
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        if task.get("drop_to_uid") is not None:
            os.setgroups([])
            os.setgid(task["drop_to_uid"])
            os.setuid(task["drop_to_uid"])
        warnings.filterwarnings("ignore", message=".*non-interactive.*cannot be shown")
        import qicourse

        _watch_file_access(task["workdir"], [
            os.path.dirname(task["workdir"]), os.environ.get("QICOURSE_DATA", ""), sys.prefix, sys.base_prefix,
            os.path.dirname(os.path.dirname(qicourse.__file__)), os.environ.get("MPLCONFIGDIR", ""),
            "/usr", "/lib", "/lib64", "/etc", "/sys", "/proc", "/data"])
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        self.sink.budget = int(limits["max_output_bytes"])
        self.streams = (_Stream(self.sink, "stdout"), _Stream(self.sink, "stderr"))
        sys.stdout, sys.stderr = self.streams

    def _serve(self, task: dict, sock) -> None:
        from qicourse.grading.tester import recv_frame_blocking, send_frame

        def on_alarm(signum, frame):  # a courtesy: the tester enforces the limit by killing this process
            signal.setitimer(signal.ITIMER_REAL, 1.0)  # keep interrupting a loop that swallows it
            raise CellTimeoutError(f"cell exceeded the {float(task['limits']['cell_timeout']):g} s time limit")

        signal.signal(signal.SIGALRM, on_alarm)
        self.machinery = _snapshot_machinery(self.shell, (self.sink, *self.streams))
        self.handles: list = []
        while True:
            msg = recv_frame_blocking(sock)
            if msg is None:
                return
            op = msg.get("op")
            if op == "run":
                reply = self._run_cell(msg["cell"], float(msg["limit"]), task.get("render_figures", True))
            elif op == "get":
                reply = {"values": {name: self._value(name) for name in msg["names"]}}
            elif op == "call":
                reply = self._call(msg)
            else:
                return
            reply["seq"] = msg["seq"]
            send_frame(sock, reply)

    def _run_cell(self, cell: dict, limit: float, render: bool) -> dict:
        shell, sink = self.shell, self.sink
        sink.cell = []
        events = []
        if sys.stdout is not self.streams[0] or sys.stderr is not self.streams[1]:
            # Libraries and learners legitimately swap these (redirect_stdout left open, widget output
            # capture, logging set-ups): put the capture back silently, never report it as tampering.
            sys.stdout, sys.stderr = self.streams
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            shell.run_cell(cell["source"], store_history=True)
        except CellTimeoutError as exc:  # raised between statements, outside run_cell's own handler
            sink.add({"output_type": "error", "ename": "CellTimeoutError", "evalue": str(exc), "traceback": [str(exc)]})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.perf_counter() - started
        if any(o["output_type"] == "error" and o["ename"] == "MemoryError" for o in sink.cell):
            events.append({"kind": "memory", "detail": "memory limit reached"})
        undone = _restore_modules(self.snapshot) + _restore_machinery(self.machinery)  # keeps this process serving
        if undone:
            events.append({"kind": "protected", "detail": sorted(set(undone))})
        if render:
            self._flush_figures(sink)
        else:
            self._close_figures()
        if _ACCESS:
            events.append({"kind": "file_access", "detail": list(_ACCESS)})
            _ACCESS.clear()
        if sink.truncated:
            events.append({"kind": "output", "detail": f"output beyond {sink.budget} bytes dropped"})
            sink.truncated = False
        return {"outputs": sink.finished_cell(), "seconds": round(elapsed, 4), "events": events}

    def _handle(self, fn) -> int:
        self.handles.append(fn)
        return len(self.handles) - 1

    def _encoded(self, value) -> dict:
        from qicourse.grading.plain import Refused, encode

        try:
            return {"ok": encode(value, self._handle)}
        except Refused as exc:
            return {"refused": str(exc)}
        except RecursionError:
            return {"refused": "the value is nested too deeply"}

    def _value(self, name: str) -> dict:
        ns = self.shell.user_ns
        if name not in ns:
            return {"missing": True}
        return self._encoded(ns[name])

    def _call(self, msg: dict) -> dict:
        """Call a learner function for the tester: output and figures it makes are dropped, warnings noted."""
        import pickle

        fn = self.handles[int(msg["h"])]

        class _Args(pickle.Unpickler):
            def persistent_load(unpickler, pid):  # noqa: N805 - a LearnerFunction the tester passed back
                return self.handles[int(pid[1])]

        args, kwargs = _Args(io.BytesIO(base64.b64decode(msg["args"]))).load()
        plt = sys.modules.get("matplotlib.pyplot")
        figures = set(plt.get_fignums()) if plt else set()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = _Discard()
        signal.setitimer(signal.ITIMER_REAL, max(float(msg["limit"]), 0.001))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = fn(*args, **kwargs)
                    reply = self._encoded(result)
                except CellTimeoutError as exc:
                    reply = {"exc": "CellTimeoutError", "msg": str(exc)}
                except BaseException as exc:  # the learner's own exception, reported as its type and message
                    reply = {"exc": type(exc).__name__, "msg": str(exc)[:2000]}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = saved
        reply["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught[:5]]
        mutable = (list, dict, set)
        after = {}
        for key, arg in [(str(i), a) for i, a in enumerate(args)] + [(f"k:{k}", v) for k, v in kwargs.items()]:
            if isinstance(arg, mutable) or type(arg).__module__.split(".")[0] in ("numpy", "pandas"):
                enc = self._encoded(arg)
                if "ok" in enc:
                    after[key] = enc["ok"]
        reply["after"] = after
        if plt:
            for num in set(plt.get_fignums()) - figures:
                plt.close(num)
        return reply

    @staticmethod
    def _close_figures() -> None:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            plt.close("all")

    @staticmethod
    def _flush_figures(sink: _Outputs) -> None:
        """Show figures left open by the cell as PNG outputs, as the inline backend does, then close them."""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        for num in plt.get_fignums():
            fig = plt.figure(num)
            buf = io.BytesIO()
            try:
                fig.savefig(buf, format="png", bbox_inches="tight")
            except Exception as exc:
                sink.stream("stderr", f"figure could not be drawn: {exc}\n")
                continue
            sink.add({"output_type": "display_data", "metadata": {},
                      "data": {"image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": repr(fig)}})
        plt.close("all")
