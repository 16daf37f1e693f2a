"""sknumpy_mlp: scikit-learn's MLPClassifier and MLPRegressor, rebuilt in NumPy."""

from ._estimator import MLPScratchClassifier
from ._onnx import to_onnx  # imports onnx only when called: the extra stays optional
from ._persistence import load, save
from ._regressor import MLPScratchRegressor

__version__ = "0.1.0"

__all__ = ["MLPScratchClassifier", "MLPScratchRegressor", "__version__", "load", "save",
           "to_onnx"]
