"""Test-session setup shared by tests/ and the doctests in sknumpy_mlp/."""

import os

# scikit-learn's check_array_api_input skips itself unless SCIPY_ARRAY_API is set before
# scipy is imported; set it so that check_estimator runs whole, with nothing skipped for
# want of an environment variable.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
