"""Tabular data: networks that take a table as it is, and their building blocks."""

from ._classifier import TabularMLPClassifier
from ._embeddings import CategoryEmbedding, PeriodicEmbedding
from ._layers import DataDense, ParametricActivation, Scale
from ._preprocessing import TabularPreprocessor, smooth_clip
from ._regressor import TabularMLPRegressor

__all__ = ["CategoryEmbedding", "DataDense", "ParametricActivation", "PeriodicEmbedding",
           "Scale", "TabularMLPClassifier", "TabularMLPRegressor", "TabularPreprocessor",
           "smooth_clip"]
