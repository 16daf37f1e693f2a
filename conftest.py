"""Test-session setup shared by tests/ and the doctests in sknumpy_mlp/."""

import os

# scikit-learn's check_array_api_input skips itself unless SCIPY_ARRAY_API is set before
# scipy is imported; set it so that check_estimator runs whole, with nothing skipped for
# want of an environment variable.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# Modules of optional extras are not collected for doctests when their extra is missing.
import importlib.util  # noqa: E402

collect_ignore = [
    path
    for path, module in [("sknumpy_mlp/_tqdm.py", "tqdm"),
                         ("sknumpy_mlp/plotting.py", "matplotlib"),
                         ("sknumpy_mlp/parallel.py", "distributed")]
    if importlib.util.find_spec(module) is None
]
