"""QI tools used in lessons and exercises: Pareto analysis, cause-and-effect diagrams, process maps,
driver diagrams, coding frames for free text, safety crosses.

Foundation layer: imports nothing of ours. Import the submodules directly
(`from qicourse.tools.problem import pareto_table`).
"""
