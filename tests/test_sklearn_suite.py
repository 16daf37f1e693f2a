"""scikit-learn's own MLP tests, run unmodified against our estimators.

The installed ``sklearn/neural_network/tests/test_mlp.py`` is executed as a module of
its own while ``sklearn.neural_network.MLPClassifier`` is :class:`MLPScratchClassifier`
and ``MLPRegressor`` is :class:`MLPScratchRegressor`; its test functions are then
exposed here, so pytest collects and runs them as ours. The patch lasts only while the
file executes: the names it imports stay bound to ours, and the rest of the session
sees scikit-learn untouched.

Every test runs, the regressor's included, except two that call scikit-learn's private
functions with scikit-learn's private signatures.
"""

import importlib.util
import os
from pathlib import Path
from unittest import mock

import pytest
import sklearn.neural_network

import sknumpy_mlp

SKLEARN_TESTS = Path(sklearn.neural_network.__file__).parent / "tests" / "test_mlp.py"

_PRIVATE = ("calls scikit-learn's private {} with scikit-learn's private signature; "
            "our gradients are checked by finite differences in tests/test_network.py")
EXCLUDED = {
    "test_fit": _PRIVATE.format("_forward_pass and _backprop"),
    "test_gradient": _PRIVATE.format("_loss_grad_lbfgs"),
}


def _load_sklearn_tests():
    spec = importlib.util.spec_from_file_location("sklearn_test_mlp_on_sknumpy_mlp",
                                                  SKLEARN_TESTS)
    module = importlib.util.module_from_spec(spec)
    ours = {"MLPClassifier": sknumpy_mlp.MLPScratchClassifier,
            "MLPRegressor": sknumpy_mlp.MLPScratchRegressor}
    with mock.patch.multiple(sklearn.neural_network, **ours):
        spec.loader.exec_module(module)
    return module


_sklearn = _load_sklearn_tests()
SKLEARN_TEST_NAMES = sorted(name for name in vars(_sklearn) if name.startswith("test_"))

for _name in SKLEARN_TEST_NAMES:
    _test = getattr(_sklearn, _name)
    if _name in EXCLUDED:
        _test = pytest.mark.skip(reason=EXCLUDED[_name])(_test)
    globals()[_name] = _test
del _name, _test


def _random_seeds(spec):
    """scikit-learn's SKLEARN_TESTS_GLOBAL_RANDOM_SEED: "42", "40-42" or "all"."""
    if spec == "all":
        return list(range(100))
    low, _, high = spec.partition("-")
    return list(range(int(low), int(high or low) + 1))


@pytest.fixture(params=_random_seeds(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED",
                                                    "42")))
def global_random_seed(request):
    """scikit-learn's fixture, which lives in its conftest (not ours); 42 by default."""
    return request.param


def test_lists_name_sklearn_tests():
    """Every excluded test exists in the installed file."""
    assert sorted(set(EXCLUDED) - set(SKLEARN_TEST_NAMES)) == []


def test_classifier_is_ours():
    assert _sklearn.MLPClassifier is sknumpy_mlp.MLPScratchClassifier
    assert sklearn.neural_network.MLPClassifier is not sknumpy_mlp.MLPScratchClassifier


def test_regressor_is_ours():
    assert _sklearn.MLPRegressor is sknumpy_mlp.MLPScratchRegressor
    assert sklearn.neural_network.MLPRegressor is not sknumpy_mlp.MLPScratchRegressor
