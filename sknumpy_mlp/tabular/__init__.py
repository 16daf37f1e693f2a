"""Tabular data: the building blocks of a network that takes a table as it is."""

from ._embeddings import CategoryEmbedding, PeriodicEmbedding
from ._layers import DataDense, ParametricActivation, Scale
from ._preprocessing import TabularPreprocessor, smooth_clip

__all__ = ["CategoryEmbedding", "DataDense", "ParametricActivation", "PeriodicEmbedding",
           "Scale", "TabularPreprocessor", "smooth_clip"]
