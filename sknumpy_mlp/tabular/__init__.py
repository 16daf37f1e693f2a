"""Tabular data: the building blocks of a network that takes a table as it is."""

from ._preprocessing import TabularPreprocessor, smooth_clip

__all__ = ["TabularPreprocessor", "smooth_clip"]
