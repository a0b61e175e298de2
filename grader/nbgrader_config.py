"""nbgrader settings for the qicourse course, copied into the course directory by `qicourse setup`.

`setup` fills in only what neither this file nor Jupyter's config folders (`jupyter --paths`, e.g. a
school's /etc/jupyter/nbgrader_config.py) set: an exchange and an SQLite gradebook inside the course
directory, and the course id "qicourse". A school sets its own here or there, e.g.
    c.CourseDirectory.course_id = "qi-fy1-2027"
    c.Exchange.root = "/srv/nbgrader/exchange"
    c.CourseDirectory.db_url = "postgresql://grader@dbhost/qicourse"
"""

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

# Learners' stubs: a clear message rather than nbgrader's bare NotImplementedError.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Per-cell timeout for plain `nbgrader autograde` (qicourse grade applies its own limits too).
c.Execute.timeout = 30
# Deleted hidden-test cells are put back and graded (nbgrader leaves them ungraded otherwise).
c.OverwriteCells.add_missing_cells = True
# Notebooks only: the datasets come from the package's sandbox, not from the assignment folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "datasets"]
# `qicourse collect`: the largest notebook accepted, and the most one LMS zip may expand to (bytes,
# counted while decompressing: a zip bomb is refused entry by entry, never written out in full).
c.CollectLimits.max_notebook_bytes = 20 * 2**20
c.CollectLimits.max_zip_bytes = 500 * 2**20
