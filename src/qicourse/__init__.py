"""qicourse: a Jupyter course in healthcare Quality Improvement, with its library and grading tools.

Layers (nothing lower imports anything higher):
  data, charts, rubric   foundation parts, importing nothing of ours
  grading, widgets       grading uses rubric; widgets use charts and data
  cli, demo              thin layer over the functions above
"""

__version__ = "0.1.0"
