"""sknumpy_mlp: scikit-learn's MLPClassifier, rebuilt by hand in NumPy, and more."""

from ._estimator import MLPScratchClassifier

__version__ = "0.1.0"

__all__ = ["MLPScratchClassifier", "__version__"]
