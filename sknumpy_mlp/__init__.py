"""sknumpy_mlp: scikit-learn's MLPClassifier, rebuilt by hand in NumPy, and more."""

from ._estimator import MLPScratchClassifier
from ._onnx import to_onnx  # imports onnx only when called: the extra stays optional
from ._persistence import load, save

__version__ = "0.1.0"

__all__ = ["MLPScratchClassifier", "__version__", "load", "save", "to_onnx"]
