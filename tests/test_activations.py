import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, ndtr
from sklearn.neural_network import _base

from sknumpy_mlp._activations import ACTIVATIONS, Activation, get_activation

NAMES = sorted(ACTIVATIONS)
SKLEARN_NAMES = ["identity", "logistic", "tanh", "relu"]
# Klambauer et al. (2017), eq. 14, to the digits printed there.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Independent formulas, written differently from the implementations.
REFERENCE = {
    "identity": lambda z: z,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": lambda z: np.sinh(z) / np.cosh(z),
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1.0),
    "gelu": lambda z: z * ndtr(z),
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1.0)),
    "mish": lambda z: z * np.tanh(np.logaddexp(0.0, z)),
}

# Derivatives, with the conventions at the kinks: relu 0, leaky_relu 0.01, elu 1.
REFERENCE_DERIVATIVE = {
    "identity": lambda z: np.ones_like(z),
    "logistic": lambda z: expit(z) * expit(-z),
    "tanh": lambda z: 1.0 / np.cosh(z) ** 2,
    "relu": lambda z: (z > 0).astype(z.dtype),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, 0.01),
    "elu": lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))),
    "gelu": lambda z: ndtr(z) + z * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi),
    "silu": lambda z: expit(z) * (1.0 + z * expit(-z)),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, 1.0,
                                            SELU_ALPHA * np.exp(np.minimum(z, 0.0))),
    "mish": lambda z: _mish_derivative(z),
}


def _mish_derivative(z):
    """Misra's closed form: e^z w / d^2, w = 4(z + 1) + 4e^2z + e^3z + e^z (4z + 6),
    d = 2e^z + e^2z + 2 (finite for |z| <= 30 in float64)."""
    e = np.exp(z)
    w = 4 * (z + 1) + 4 * e**2 + e**3 + e * (4 * z + 6)
    return e * w / (2 * e + e**2 + 2) ** 2


def _signed_inputs(rng, shape, low=0.1, high=4.0):
    """Inputs with |z| in [low, high]: away from the kinks at 0."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _forward(act, z):
    return act.forward(z, np.empty_like(z))


def _backward(act, z, a, delta):
    return act.backward(z if act.needs_input else None, a, delta)


def test_registry():
    assert set(ACTIVATIONS) == set(REFERENCE)
    for name, act in ACTIVATIONS.items():
        assert isinstance(act, Activation)
        assert act.name == name
        assert get_activation(name) is act
    assert {n for n, a in ACTIVATIONS.items() if a.needs_input} == {"gelu", "silu", "mish"}


@pytest.mark.parametrize("bad", ["softmax", "ReLU", None])
def test_get_activation_unknown_lists_valid_names(bad):
    with pytest.raises(ValueError, match="'relu'.*'silu'"):
        get_activation(bad)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    z = _signed_inputs(rng, (5, 8))
    c = rng.standard_normal(z.shape)

    def objective(zz):
        return np.sum(c * _forward(act, zz))

    numeric = numerical_gradient(objective, z)
    analytic = _backward(act, z, _forward(act, z), c.copy())
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_reference(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(1).normal(0.0, 3.0, size=(7, 9))
    z[0, :3] = [0.0, -1e-300, 1e-300]
    assert_allclose(_forward(act, z), REFERENCE[name](z), rtol=1e-12, atol=1e-14)
    assert_allclose(act.forward(z), REFERENCE[name](z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_reference_derivative(name):
    # Wide range, exact zeros and subnormals: the saturated tails and the
    # f(z) / z shortcut of gelu and silu near 0.
    act = ACTIVATIONS[name]
    z = np.concatenate(
        [np.linspace(-30.0, 30.0, 121), [0.0, -0.0, 5e-324, -1e-310, 1e-200]]
    ).reshape(-1, 1)
    grad = _backward(act, z, _forward(act, z), np.ones_like(z))
    assert_allclose(grad, REFERENCE_DERIVATIVE[name](z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_not_modified(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(2)
    z = rng.normal(size=(4, 6))
    z_copy = z.copy()
    a = _forward(act, z)
    a_copy = a.copy()
    _backward(act, z, a, rng.normal(size=z.shape))
    assert_array_equal(z, z_copy)
    assert_array_equal(a, a_copy)


@pytest.mark.parametrize("name", NAMES)
def test_in_place_forward(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 2.0, size=(6, 5))
    expected = _forward(act, z)

    zz = z.copy()
    a = act.forward(zz, zz)
    assert a is zz
    assert_array_equal(a, expected)

    delta = rng.normal(size=z.shape)
    expected_grad = _backward(act, z, expected, delta.copy())
    if not act.needs_input:
        # After an in-place forward only the output is left; z is not read.
        assert_array_equal(act.backward(None, a, delta.copy()), expected_grad)
        assert_array_equal(act.backward(a, a, delta.copy()), expected_grad)
    assert act.backward(z, expected, delta) is delta


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(4)
    z64 = rng.normal(0.0, 2.0, size=(8, 16))
    d64 = rng.normal(size=z64.shape)
    z32, d32 = z64.astype(np.float32), d64.astype(np.float32)

    a32 = _forward(act, z32)
    assert act.forward(z32).dtype == np.float32
    g32 = _backward(act, z32, a32, d32.copy())
    assert a32.dtype == np.float32
    assert g32.dtype == np.float32

    a64 = _forward(act, z64)
    g64 = _backward(act, z64, a64, d64.copy())
    assert_allclose(a32, a64, rtol=1e-5, atol=1e-6)
    assert_allclose(g32, g64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SKLEARN_NAMES)
def test_matches_sklearn_exactly(name, dtype):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(5)
    z = rng.normal(0.0, 2.0, size=(10, 12)).astype(dtype)
    z[0, :4] = 0.0  # relu's output is exactly zero here
    delta = rng.normal(size=z.shape).astype(dtype)

    expected_a = z.copy()
    _base.ACTIVATIONS[name](expected_a)
    a = _forward(act, z)
    assert_array_equal(a, expected_a)

    expected_delta = delta.copy()
    _base.DERIVATIVES[name](expected_a, expected_delta)
    assert_array_equal(act.backward(None, a, delta.copy()), expected_delta)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_selu_backward_equals_the_masked_formula_bit_for_bit(dtype):
    # SELU's backward subtracts a mask times (lambda alpha - lambda) instead of
    # assigning lambda where a > 0; the docstring says why that is exact.
    act = ACTIVATIONS["selu"]
    z = np.concatenate([np.random.default_rng(0).normal(0.0, 3.0, 500),
                        [0.0, -0.0, 1e-30, -1e-30, 80.0, -80.0]]).astype(dtype)
    a = act.forward(z)
    delta = np.random.default_rng(1).normal(size=z.shape).astype(dtype)
    plain = delta * np.where(a > 0, dtype(SELU_SCALE), a + dtype(SELU_SCALE * SELU_ALPHA))
    got = act.backward(z, a, delta.copy())
    assert got.dtype == dtype
    assert_array_equal(got, plain)
