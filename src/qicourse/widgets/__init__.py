"""ipywidgets explorers for the lessons, built on `qicourse.charts` and `qicourse.data`.

Import the submodules directly (`from qicourse.widgets.measurement import run_chart_explorer`),
so a lesson pays only for the widgets it uses.
"""
