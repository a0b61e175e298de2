"""The `qicourse` command: a thin layer over functions that notebooks and tests call directly.

Each part of the package registers its own subcommands (`register(subparsers)` in its `cli`
module), so the command line and the Python API never drift apart.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys

# Parts that contribute subcommands, in the order they appear in --help.
_PARTS = ["qicourse.layout", "qicourse.data.cli", "qicourse.grading.cli", "qicourse.rubric.cli", "qicourse.demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qicourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _PARTS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    quiet = None if os.environ.get("QICOURSE_TRACEBACK") else _OneLineLog()
    saved = logging.lastResort
    if quiet:
        logging.lastResort = quiet
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"qicourse {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not quiet:
            raise
        print(f"qicourse {args.command}: error: {explain(exc)}", file=sys.stderr)
        return 2
    finally:
        logging.lastResort = saved


class _OneLineLog(logging.Handler):
    """Stands in for logging's last-resort handler (what prints the warnings of loggers nobody
    configured): one line per record. A record carrying a traceback is left out: libraries
    (nbgrader's gradebook, for one) log an error with its traceback just before raising it, and
    `main` reports the raised error itself in one line."""

    def __init__(self):
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        lines = record.getMessage().strip().splitlines()
        if record.exc_info or not lines or lines[0].startswith("Traceback"):
            return
        print(f"qicourse: {record.levelname.lower()}: {lines[0]}", file=sys.stderr)


# errno -> what to tell the user; the file concerned is added when the error names one
_OS_ERRORS = {
    errno.ENOSPC: "the disk is full",
    getattr(errno, "EDQUOT", -1): "the disk quota is used up",  # no EDQUOT on Windows
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", -1))


def explain(exc: BaseException) -> str:
    """One line saying what went wrong, for any error a command can meet: the single place where
    file-system and database errors are put in words (a traceback is shown only with QICOURSE_TRACEBACK=1)."""
    db = _database_error(exc)
    if db:
        return db
    if isinstance(exc, KeyError):  # str() of a KeyError is the repr of its message
        return str(exc.args[0]) if exc.args else "not found"
    if isinstance(exc, (FileNotFoundError, ValueError)) or type(exc).__module__.startswith("qicourse"):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _OS_ERRORS:
        where = f": {exc.filename}" if exc.filename else ""
        hint = " (files written before were left as they were)" if exc.errno in _DISK_FULL else ""
        return f"{_OS_ERRORS[exc.errno]}{where}{hint}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"unexpected {type(exc).__name__}{': ' + first if first else ''} (set QICOURSE_TRACEBACK=1 to see where)"


def _database_error(exc: BaseException) -> str | None:
    """The gradebook's database errors in words, also when SQLAlchemy or nbgrader wrapped them (nbgrader
    re-raises them as its own InvalidEntry, a ValueError); None for anything else. SQLite's are told
    apart; another database's (PostgreSQL) is reported as its driver's first line."""
    import sqlite3

    err, other, seen = None, None, set()
    while exc is not None and id(exc) not in seen and err is None:
        seen.add(id(exc))
        orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError keeps the driver's error here
        err = orig if isinstance(orig, sqlite3.Error) else exc if isinstance(exc, sqlite3.Error) else None
        if other is None and orig is not None and type(exc).__module__.startswith("sqlalchemy"):
            other = orig
        exc = exc.__cause__ or exc.__context__
    if err is None:
        if other is None:
            return None
        first = next((ln.strip() for ln in str(other).splitlines() if ln.strip()), type(other).__name__)
        return f"gradebook error ({type(other).__name__}): {first}"
    text = str(err)
    if "readonly" in text or "read-only" in text:
        return f"the gradebook cannot be written (read-only): {text}"
    if "full" in text:
        return f"the disk is full: the gradebook could not be written ({text})"
    if "not a database" in text or "malformed" in text:
        return f"the gradebook is damaged ({text}): restore it from a backup"
    if "unable to open" in text:
        return f"the gradebook cannot be opened ({text}): is the course folder readable and writable?"
    return f"gradebook error: {text}"


if __name__ == "__main__":
    sys.exit(main())
