"""Grading subcommands: thin wrappers over the functions in `qicourse.grading`."""

from __future__ import annotations

from pathlib import Path

from qicourse.grading.safeio import write_text


def _setup(args) -> int:
    from qicourse.grading import setup_course

    course = setup_course(course_dir=args.course_dir, students=args.students)
    print(f"Course directory ready: {course.root} (assignments: {', '.join(course.assignments()) or 'none'})")
    return 0


def _release(args) -> int:
    from qicourse.grading import release

    out = release(args.assignments or None, course_dir=args.course_dir)
    for a, files in out.items():
        print(f"released {a}: {', '.join(str(f) for f in files)}")
    return 0


def _collect(args) -> int:
    from qicourse.grading import collect

    report = collect(args.assignment, args.source, course_dir=args.course_dir)
    print(report.to_text())
    return 0


def _grade(args) -> int:
    from qicourse.grading import grade

    run = grade(args.assignment, course_dir=args.course_dir, workers=args.workers, force=args.force,
                students=args.student or None, allow_no_sandbox=args.no_sandbox)
    ok = sum(r.status == "ok" for r in run.results)
    if run.sandbox != "bwrap" and run.results:
        print(f"WARNING: graded WITHOUT a sandbox ({run.sandbox}, --no-sandbox): learners' code ran with your "
              "access to files; every result records it")
    print(f"graded {len(run.results)} notebook(s) in {run.seconds:.1f} s with {run.workers} worker(s), "
          f"sandbox: {run.sandbox}; {ok} ok, {len(run.failures)} with problems, {len(run.skipped)} already graded (use --force)")
    for r in run.failures:
        print(f"  {r.student}: {r.status}: {'; '.join(r.reasons)}")
    return 0


def _feedback(args) -> int:
    from qicourse.grading import feedback

    files = feedback(args.assignment, course_dir=args.course_dir, workers=args.workers)
    print(f"feedback written for {len(files)} learner(s), e.g. {files[0] if files else '-'}")
    for student, why in sorted(files.failures.items()):
        print(f"  {student}: no feedback: {why}")
    return 1 if files.failures else 0


def _export(args) -> int:
    from qicourse.grading import export

    out = export(args.assignment, course_dir=args.course_dir, out_dir=args.out,
                 include_provisional=args.include_provisional, include_flagged=args.include_flagged)
    for name, path in out.items():
        print(f"{name}: {path}")
    if out.awaiting:
        counted = "included in" if args.include_provisional else "left out of"
        print(f"{len(out.awaiting)} provisional write-up mark(s) awaiting your confirmation in formgrader "
              f"({counted} the Moodle/Canvas totals; listed in the awaiting confirmation file):")
        for mark in out.awaiting[:_LISTED]:
            print(f"  {mark['student_id']} ({mark['assignment']}): {mark['writeup']} "
                  f"{mark['provisional_score']:g}/{mark['max_score']:g}")
        if len(out.awaiting) > _LISTED:
            print(f"  ... and {len(out.awaiting) - _LISTED} more")
    return 0


_LISTED = 20


def _report(args) -> int:
    from qicourse.grading import report

    path = report(args.assignment, course_dir=args.course_dir, out_dir=args.out)
    print(f"cohort report: {path}")
    return 0


def _check(args) -> int:
    from qicourse.grading import check_notebook

    result = check_notebook(args.notebook, args.assignment)
    print(result.to_text())
    html_path = Path(args.html) if args.html else Path(args.notebook).with_suffix(".check.html")
    write_text(html_path, result.to_html())
    print(f"(also written as {html_path})")
    return 0 if result.all_passed else 1


def register(subparsers) -> None:
    def add(name, func, help_):
        p = subparsers.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    def course_opt(p):
        p.add_argument("--course-dir", default=None, help="nbgrader course directory (default: coursedir/)")

    p = add("setup", _setup, "create or refresh the nbgrader course directory from solutions/")
    course_opt(p)
    p.add_argument("--students", help="student list CSV: id,first_name,last_name,email[,lms_id]")
    p = add("release", _release, "generate the student versions into exercises/ (nbgrader generate_assignment)")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    course_opt(p)
    p = add("collect", _collect, "import submissions from a folder or an LMS (Moodle/Canvas) zip")
    p.add_argument("assignment")
    p.add_argument("source", help="folder <student>/<assignment>/*.ipynb, or a Moodle/Canvas bulk-download zip")
    course_opt(p)
    p = add("grade", _grade, "autograde all submissions in parallel sandboxed workers")
    p.add_argument("assignment")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--student", action="append", metavar="ID", help="only this student (repeatable)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="grade even without bubblewrap: learners' code can then read your files (recorded in every result)")
    course_opt(p)
    p = add("feedback", _feedback, "HTML feedback per learner (with rubric feedback), in parallel processes")
    p.add_argument("assignment")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: number of cores)")
    course_opt(p)
    p = add("export", _export, "scores per learner and question (CSV) plus Moodle/Canvas grade files")
    p.add_argument("assignment", nargs="?")
    p.add_argument("--out", default=None, help="output folder (default: <course-dir>/exports)")
    p.add_argument("--include-provisional", action="store_true",
                   help="count write-up marks you have not confirmed yet in the Moodle/Canvas totals")
    p.add_argument("--include-flagged", action="store_true",
                   help="give flagged and incomplete learners their score in the Moodle/Canvas files (after you "
                        "have reviewed them); by default their grade is blank with the reason beside it")
    course_opt(p)
    p = add("report", _report, "cohort report (HTML with plots)")
    p.add_argument("assignment")
    p.add_argument("--out", default=None, help="output folder (default: <course-dir>/reports)")
    course_opt(p)
    p = add("check", _check, "grade your own notebook against the hidden tests (exit 1 if any test fails)")
    p.add_argument("notebook")
    p.add_argument("--assignment", default=None)
    p.add_argument("--html", default=None, help="where to write the HTML version")

