"""A built package (wheel or sdist install) carries the course assets in `qicourse/_assets/`, so an
install needs no clone (`qicourse.paths` finds them there). An editable install uses the checkout's."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = ("course", "solutions", "exercises", "datasets", "grader")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.check.html")


class BuildWithAssets(build_py):
    """setuptools' build_py, then a copy of the course assets into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        here = Path(__file__).resolve().parent
        dest = Path(self.build_lib) / "qicourse" / "_assets"
        shutil.rmtree(dest, ignore_errors=True)
        for name in ASSETS:
            if not (here / name).is_dir():
                raise FileNotFoundError(f"course assets {here / name} missing: build from a checkout or its sdist")
            shutil.copytree(here / name, dest / name, ignore=SKIPPED)


setup(cmdclass={"build_py": BuildWithAssets})
