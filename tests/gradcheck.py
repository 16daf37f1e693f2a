"""The finite-difference helpers the tests share (they live in the package)."""

from sknumpy_mlp.gradcheck import numerical_gradient, relative_error  # noqa: F401
