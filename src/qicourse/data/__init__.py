"""Synthetic ward datasets for the course: generated from recipes, loaded with proper dtypes.

    from qicourse.data import load, describe, truth, list_datasets, build_all
"""

from .build import build_all
from .loader import describe, list_datasets, load, truth

__all__ = ["load", "describe", "truth", "list_datasets", "build_all"]
