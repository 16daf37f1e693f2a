import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_expit, log_softmax
from sklearn.neural_network import _base

from sknumpy_mlp._losses import (
    SigmoidBinaryCrossEntropy,
    SoftmaxCrossEntropy,
    get_loss,
)

# (head, n_outputs): binary and multiclass softmax, binary and multilabel sigmoid.
PROBLEMS = [
    (SoftmaxCrossEntropy, 2),
    (SoftmaxCrossEntropy, 4),
    (SigmoidBinaryCrossEntropy, 1),
    (SigmoidBinaryCrossEntropy, 3),
]
PROBLEM_IDS = ["softmax-2", "softmax-4", "sigmoid-1", "sigmoid-3"]


def _problem(head_cls, k, rng, n=6, logit_scale=2.0):
    z = rng.normal(0.0, logit_scale, size=(n, k))
    if head_cls is SoftmaxCrossEntropy:
        y = np.eye(k, dtype=bool)[rng.integers(k, size=n)]
    else:
        y = rng.random((n, k)) < 0.5
    return z, y


def _weights(rng, n, weighted):
    return rng.uniform(0.5, 2.0, size=n) if weighted else None


def _reference_loss(head_cls, z, y, w, eps):
    """Per-sample cross-entropy from scipy's log-probabilities, weighted sum."""
    k = z.shape[1]
    if head_cls is SoftmaxCrossEntropy:
        t = y * (1 - eps) + eps / k
        per_sample = -np.sum(t * log_softmax(z, axis=1), axis=1)
    else:
        t = y * (1 - eps) + eps / 2
        per_sample = -np.sum(t * log_expit(z) + (1 - t) * log_expit(-z), axis=1)
    w = np.ones(len(z)) if w is None else w
    return np.dot(w, per_sample), t


@pytest.mark.parametrize("scale", [1.0, 0.3])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("head_cls, k", PROBLEMS, ids=PROBLEM_IDS)
def test_gradient_matches_finite_differences(
    head_cls, k, weighted, label_smoothing, scale
):
    rng = np.random.default_rng(0)
    z, y = _problem(head_cls, k, rng)
    w = _weights(rng, len(z), weighted)
    head = head_cls()

    def objective(zz):
        return scale * head.loss_and_grad(zz.copy(), y, w, label_smoothing, scale)

    numeric = numerical_gradient(objective, z)
    analytic = z.copy()
    head.loss_and_grad(analytic, y, w, label_smoothing, scale)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("head_cls, k", PROBLEMS, ids=PROBLEM_IDS)
def test_loss_and_gradient_match_reference(head_cls, k, weighted, label_smoothing):
    rng = np.random.default_rng(1)
    z, y = _problem(head_cls, k, rng, n=20)
    w = _weights(rng, len(z), weighted)
    expected_loss, t = _reference_loss(head_cls, z, y, w, label_smoothing)
    prob = head_cls().activate(z.copy())
    w_col = 1.0 if w is None else w[:, np.newaxis]
    expected_grad = 0.5 * w_col * (prob - t)

    grad = z.copy()
    loss = head_cls().loss_and_grad(grad, y, w, label_smoothing, scale=0.5)
    assert isinstance(loss, float)
    assert_allclose(loss, expected_loss, rtol=1e-12)
    assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("head_cls, k", PROBLEMS, ids=PROBLEM_IDS)
def test_loss_matches_sklearn(head_cls, k, weighted):
    rng = np.random.default_rng(2)
    z, y = _problem(head_cls, k, rng, n=30)
    w = _weights(rng, len(z), weighted)
    total_weight = len(z) if w is None else w.sum()
    prob = head_cls().activate(z.copy())
    y_float = y.astype(np.float64)

    loss = head_cls().loss_and_grad(z.copy(), y, sample_weight=w)
    if head_cls is SoftmaxCrossEntropy or k == 1:
        expected = _base.log_loss(y_float, prob, sample_weight=w)
        assert_allclose(loss, expected * total_weight, rtol=1e-10)
    if head_cls is SigmoidBinaryCrossEntropy:
        expected = _base.binary_log_loss(y_float, prob, sample_weight=w)
        assert_allclose(loss, expected * total_weight, rtol=1e-10)


@pytest.mark.parametrize("head_cls, k", PROBLEMS, ids=PROBLEM_IDS)
def test_bool_and_float_targets_agree(head_cls, k):
    rng = np.random.default_rng(3)
    z, y = _problem(head_cls, k, rng)
    g_bool, g_float = z.copy(), z.copy()
    loss_bool = head_cls().loss_and_grad(g_bool, y, label_smoothing=0.1)
    loss_float = head_cls().loss_and_grad(g_float, y.astype(float), label_smoothing=0.1)
    assert loss_bool == loss_float
    assert_array_equal(g_bool, g_float)


# One sample badly wrong by 2e4 nats, one exactly right.
EXTREME = {
    SoftmaxCrossEntropy: (
        [[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]],
        [[0, 1, 0], [0, 1, 0]],
        [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]],
    ),
    SigmoidBinaryCrossEntropy: (
        [[1e4, -1e4], [-1e4, 1e4]],
        [[0, 1], [0, 1]],
        [[1.0, -1.0], [0.0, 0.0]],
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("head_cls", list(EXTREME))
def test_extreme_logits_stay_finite(head_cls, dtype):
    logits, y, expected_grad = EXTREME[head_cls]
    z = np.array(logits, dtype=dtype)
    y = np.array(y, dtype=bool)

    loss = head_cls().loss_and_grad(z, y)
    assert np.isfinite(loss)
    assert_allclose(loss, 2e4, rtol=1e-6)
    assert z.dtype == dtype
    assert_allclose(z, expected_grad, atol=1e-6)

    z = np.array(logits, dtype=dtype)
    loss = head_cls().loss_and_grad(z, y, np.array([2.0, 1.0]), 0.1, 0.5)
    assert np.isfinite(loss)
    assert np.all(np.isfinite(z))

    prob = head_cls().activate(np.array(logits, dtype=dtype))
    assert np.all((prob >= 0) & (prob <= 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_activate_rows_sum_to_one(dtype):
    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 5.0, size=(50, 10)).astype(dtype)
    z[0] = [1e4, -1e4] * 5
    out = SoftmaxCrossEntropy().activate(z)
    assert out is z
    assert out.dtype == dtype
    assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert np.all(out >= 0)


def test_sigmoid_activate_in_place():
    z = np.random.default_rng(5).normal(size=(7, 3))
    expected = expit(z)
    out = SigmoidBinaryCrossEntropy().activate(z)
    assert out is z
    assert_array_equal(out, expected)


@pytest.mark.parametrize("head_cls, k", PROBLEMS, ids=PROBLEM_IDS)
def test_float32_gradient(head_cls, k):
    rng = np.random.default_rng(6)
    z, y = _problem(head_cls, k, rng, n=16)
    w = _weights(rng, len(z), True)
    g64 = z.copy()
    loss64 = head_cls().loss_and_grad(g64, y, w, 0.1, 0.25)
    g32 = z.astype(np.float32)
    loss32 = head_cls().loss_and_grad(g32, y, w, 0.1, 0.25)
    assert g32.dtype == np.float32
    assert isinstance(loss32, float)
    assert_allclose(loss32, loss64, rtol=1e-5)
    assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "n_outputs, multilabel, expected",
    [
        (1, False, SigmoidBinaryCrossEntropy),
        (2, False, SoftmaxCrossEntropy),
        (5, False, SoftmaxCrossEntropy),
        (1, True, SigmoidBinaryCrossEntropy),
        (4, True, SigmoidBinaryCrossEntropy),
    ],
)
def test_get_loss(n_outputs, multilabel, expected):
    assert type(get_loss(n_outputs, multilabel)) is expected
