"""The RealMLP-TD layers: finite differences one layer at a time and end to end, and
what each layer promises (shapes, pass-through columns, initial values, init from data)."""

import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from sknumpy_mlp._activations import ACTIVATIONS
from sknumpy_mlp._batch_norm import BatchNorm
from sknumpy_mlp._layers import LAYERS, ActivationLayer, Dense, Dropout, Pass
from sknumpy_mlp._layout import Layout
from sknumpy_mlp._losses import SoftmaxCrossEntropy
from sknumpy_mlp._network import Network
from sknumpy_mlp._regression_losses import IdentitySquaredError
from sknumpy_mlp.gradcheck import check_layer_gradient, check_network_gradient
from sknumpy_mlp.tabular import (
    CategoryEmbedding,
    DataDense,
    ParametricActivation,
    PeriodicEmbedding,
    Scale,
)

RNG = np.random.RandomState(0)
X = RNG.normal(size=(9, 5))
CARDS = [4, 6]
# Every level of the first column, code 0 (missing) in both, and repeated codes.
CODES = np.array([[0, 0], [1, 5], [2, 5], [3, 1], [1, 0], [1, 5], [0, 2], [3, 3],
                  [2, 5]], dtype=np.float64)
XC = np.hstack([X, CODES])


def _bound(layer, dtype=np.float64, x=None, seed=0):
    """A layer on buffers of its own, initialised (``x``: the sample it sees)."""
    layout = Layout([layer])
    params, grads = np.zeros(layout.n_params, dtype), np.zeros(layout.n_params, dtype)
    layer.bind(layout.views(params)[0], layout.views(grads)[0], {})
    layer.initialize(np.random.RandomState(seed), SimpleNamespace(x=x))
    return layer, params, grads


def _train_forward(layer, x):
    ws = layer.buffers(len(x), lambda shape, dtype=x.dtype: np.empty(shape, dtype))
    return layer.forward(x, ws, Pass(training=True)), ws


# --------------------------------------------------------------- finite differences
@pytest.mark.parametrize("n_pass, cards, dim", [(5, CARDS, 3), (0, [7], 2), (5, [], 8),
                                                (2, [1, 3, 2], 4)])
def test_category_embedding_gradient(n_pass, cards, dim):
    codes = np.minimum(CODES[:, :1], np.array(cards)[None, :] - 1) if cards else \
        np.empty((9, 0))
    x = np.hstack([X[:, :n_pass], codes])
    layer = CategoryEmbedding(n_pass + len(cards), cards, dim=dim)
    assert check_layer_gradient(layer, x) < 1e-6


@pytest.mark.parametrize("n_in, n_numeric, k, q, sigma", [
    (5, 3, 4, 2, 1.0), (5, 5, 16, 3, 0.1), (4, 1, 3, 1, 2.0), (3, 0, 4, 3, 0.1)])
def test_periodic_embedding_gradient(n_in, n_numeric, k, q, sigma):
    layer = PeriodicEmbedding(n_in, n_numeric, n_frequencies=k, n_out=q, sigma=sigma)
    assert check_layer_gradient(layer, X[:, :n_in]) < 1e-6


@pytest.mark.parametrize("shape", [(9, 5), (1, 3), (4, 1)])
def test_scale_gradient(shape):
    assert check_layer_gradient(Scale(shape[1]), X[:shape[0], :shape[1]]) < 1e-6


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_parametric_activation_gradient(activation):
    # Away from the kinks of relu and friends, where differences are not derivatives.
    x = np.where(np.abs(X) < 0.05, 0.5, X)
    assert check_layer_gradient(ParametricActivation(activation, 5), x) < 1e-6


@pytest.mark.parametrize("n_in, n_out", [(5, 4), (3, 7), (1, 1)])
@pytest.mark.parametrize("training", [True, False])
def test_data_dense_gradient(n_in, n_out, training):
    layer = DataDense(n_in, n_out)
    assert check_layer_gradient(layer, X[:, :n_in], training=training) < 1e-6


# -------------------------------------------------------------------- semantics
def test_category_embedding_looks_up_rows_and_passes_columns():
    layer, *_ = _bound(CategoryEmbedding(7, CARDS, dim=3))
    x = XC.copy()
    y = layer.forward(x, None, Pass())
    assert y.shape == (9, 5 + 2 * 3)
    np.testing.assert_array_equal(x, XC)  # input untouched
    np.testing.assert_array_equal(y[:, :5], X)
    tables = [layer.table[:4], layer.table[4:]]
    for i in range(9):
        for j in range(2):
            np.testing.assert_array_equal(y[i, 5 + 3 * j:8 + 3 * j],
                                          tables[j][int(CODES[i, j])])
    train, _ = _train_forward(layer, x)
    np.testing.assert_array_equal(train, y)


def test_category_embedding_reads_bad_codes_as_unknown():
    layer, *_ = _bound(CategoryEmbedding(2, CARDS, dim=2))
    x = np.array([[-1.0, 6.0], [np.nan, 99.0], [4.0, 0.0], [0.0, 0.0]])
    y = layer.forward(x, None, Pass())
    np.testing.assert_array_equal(y[:3], y[[3, 3, 3]])


def test_category_embedding_gradient_is_the_plain_scatter_add():
    layer, _, grads = _bound(CategoryEmbedding(7, CARDS, dim=3))
    _, ws = _train_forward(layer, XC)
    dy = RNG.normal(size=(9, 11))
    dx = layer.backward(dy.copy(), ws, Pass(training=True))
    expected = np.zeros_like(layer.table)
    rows = CODES.astype(int) + [0, 4]
    np.add.at(expected, rows.ravel(), dy[:, 5:].reshape(-1, 3))
    np.testing.assert_allclose(layer.table_grad, expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(dx[:, :5], dy[:, :5])
    np.testing.assert_array_equal(dx[:, 5:], 0.0)
    assert layer.backward(dy.copy(), ws, Pass(training=True), need_dx=False) is None


def test_periodic_embedding_forward_is_the_formula():
    layer, *_ = _bound(PeriodicEmbedding(5, 3, n_frequencies=4, n_out=2, sigma=1.0))
    x = X.copy()
    y = layer.forward(x, None, Pass())
    assert y.shape == (9, 3 * 3 + 2)
    np.testing.assert_array_equal(x, X)
    for j in range(3):  # one feature at a time, plainly
        h = np.cos(2 * np.pi * np.outer(X[:, j], layer.w1[j]) + layer.b1[j])
        e = h @ layer.w2[j] + layer.b2[j]
        np.testing.assert_allclose(y[:, 3 * j:3 * j + 2], e, rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(y[:, 3 * j + 2], X[:, j])  # densenet: raw value
    np.testing.assert_array_equal(y[:, 9:], X[:, 3:])
    train, _ = _train_forward(layer, x)
    np.testing.assert_allclose(train, y, rtol=1e-15, atol=1e-15)


def test_periodic_embedding_on_buffers_larger_than_the_batch():
    """A last short batch uses the leading part of the flat buffers: same numbers."""
    layer, _, grads = _bound(PeriodicEmbedding(5, 3, n_frequencies=4, n_out=2, sigma=1.0))
    dy = np.random.RandomState(1).normal(size=(9, layer.width))
    results = []
    for rows in (9, 23):
        ws = layer.buffers(rows, lambda shape, dtype=None: np.full(shape, np.nan))
        y = layer.forward(X, ws, Pass(training=True)).copy()
        dx = layer.backward(dy, ws, Pass(training=True)).copy()
        results.append((y, dx, grads.copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_periodic_embedding_initialisation():
    layer, *_ = _bound(PeriodicEmbedding(300, 300, sigma=0.1))
    assert abs(layer.w1.std() - 0.1) < 0.005 and abs(layer.w1.mean()) < 0.005
    assert -np.pi <= layer.b1.min() and layer.b1.max() <= np.pi
    bound = 1 / np.sqrt(16)
    assert np.abs(layer.w2).max() <= bound and np.abs(layer.b2).max() <= bound
    assert layer.w2.shape == (300, 16, 3) and layer.b2.shape == (300, 3)


def test_scale_and_parametric_activation_start_as_identity_and_f():
    scale, *_ = _bound(Scale(5))
    np.testing.assert_array_equal(scale.forward(X, None, Pass()), X)
    for name in ["selu", "mish", "relu"]:
        act, *_ = _bound(ParametricActivation(name, 5))
        expected = ACTIVATIONS[name].forward(X.copy())
        np.testing.assert_allclose(act.forward(X, None, Pass()), expected, rtol=1e-15)
        np.testing.assert_allclose(_train_forward(act, X)[0], expected, rtol=1e-15)
        act.alpha[...] = 0.0  # alpha = 0: the identity
        np.testing.assert_array_equal(act.forward(X, None, Pass()), X)


def test_parametric_activation_mixes_per_unit():
    act, *_ = _bound(ParametricActivation("selu", 5))
    act.alpha[...] = [0.0, 0.25, 0.5, 1.0, 2.0]
    f = ACTIVATIONS["selu"].forward(X.copy())
    np.testing.assert_allclose(act.forward(X, None, Pass()), X + act.alpha * (f - X),
                               rtol=1e-15)


def test_data_dense_init_unit_variance_and_biases_between_data_points():
    sample = RNG.normal(2.0, 5.0, size=(200, 6)) * [1, 10, 0.1, 1, 1, 3]
    layer, *_ = _bound(DataDense(6, 50), x=sample)
    z = sample @ layer.coef
    np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=1e-12)
    # The kink of unit j (z + b = 0) is a convex combination of sample points.
    assert np.all(z.min(axis=0) <= -layer.intercept)
    assert np.all(-layer.intercept <= z.max(axis=0))
    centre = np.abs(layer.intercept + z.mean(axis=0))  # near the data, not at the mean
    assert centre.max() < 3 and centre.min() > 0
    again, *_ = _bound(DataDense(6, 50), x=sample)
    np.testing.assert_array_equal(again.coef, layer.coef)
    np.testing.assert_array_equal(again.intercept, layer.intercept)
    other, *_ = _bound(DataDense(6, 50), x=sample, seed=1)
    assert not np.allclose(other.coef, layer.coef)


def test_data_dense_needs_a_sample():
    with pytest.raises(ValueError, match="sample of its inputs"):
        _bound(DataDense(3, 2))


def test_data_dense_constant_sample_does_not_divide_by_zero():
    layer, *_ = _bound(DataDense(3, 4), x=np.ones((1, 3)))
    assert np.all(np.isfinite(layer.coef)) and np.all(np.isfinite(layer.intercept))


def test_learning_rate_and_decay_factors():
    factors = {(type(la).__name__, p.name): (p.kind, p.lr, p.wd)
               for la in [CategoryEmbedding(3, [4]), PeriodicEmbedding(3, 2), Scale(3),
                          ParametricActivation("selu", 3), DataDense(16, 2)]
               for p in la.params()}
    assert factors == {
        ("CategoryEmbedding", "table"): ("embedding", 1.0, 1.0),
        **{("PeriodicEmbedding", n): ("embedding", 0.1, 0.1)
           for n in ["w1", "b1", "w2", "b2"]},
        ("Scale", "scale"): ("embedding", 6.0, 6.0),
        ("ParametricActivation", "alpha"): ("embedding", 0.1, 0.1),
        ("DataDense", "coef"): ("weight", 0.25, 1.0),
        ("DataDense", "intercept"): ("bias", 0.1, 0.0),
    }


TABULAR = [CategoryEmbedding(7, CARDS, dim=3), PeriodicEmbedding(5, 2, 8, 2, 0.5),
           Scale(4), ParametricActivation("mish", 4), DataDense(4, 3, index=1)]


@pytest.mark.parametrize("layer", TABULAR, ids=lambda la: type(la).__name__)
def test_pickles_as_its_settings_and_is_registered(layer):
    assert LAYERS[layer.name] is type(layer)
    clone = pickle.loads(pickle.dumps(layer))
    assert type(clone) is type(layer) and clone.config() == layer.config()
    assert layer.__getstate__() == layer.config()
    assert repr(clone) == repr(layer)
    for value in layer.config().values():  # plain values only: model files keep them
        assert isinstance(value, int | float | str | list)


def test_every_registered_layer_is_covered_by_a_pickle_test():
    core = [Dense, ActivationLayer, Dropout, BatchNorm]
    assert set(LAYERS.values()) >= set(core) | {type(la) for la in TABULAR}


@pytest.mark.parametrize("layer", TABULAR[:4], ids=lambda la: type(la).__name__)
def test_onnx_says_not_yet(layer):
    with pytest.raises(NotImplementedError, match="not exported to ONNX yet"):
        layer.to_onnx(None, "X")


# ------------------------------------------------------------------ end to end
def _realmlp(dtype, head, activation, n_outputs, rate=0.3):
    """The RealMLP-TD network on 5 numeric columns and 2 code columns, one hidden
    layer of 6 units."""
    n_embedded = 5 * (3 + 1) + 2 * 3
    layers = [CategoryEmbedding(7, CARDS, dim=3),
              PeriodicEmbedding(5 + 2 * 3, 5, n_frequencies=4, n_out=3, sigma=0.5),
              Scale(n_embedded), DataDense(n_embedded, 6, index=0),
              ParametricActivation(activation, 6), Dropout(rate, 6, key=0),
              DataDense(6, n_outputs, index=1)]
    net = Network(layers, head, dtype)
    return net.initialize(np.random.RandomState(0), X=XC.astype(dtype))


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_whole_network_gradient(task):
    if task == "classification":
        Y = np.eye(3, dtype=bool)[RNG.randint(3, size=9)]
        net = _realmlp(np.float64, SoftmaxCrossEntropy(), "selu", 3)
    else:
        # One output: for several, sklearn's reported loss is the mean over outputs
        # while its gradient is the sum's (see IdentitySquaredError).
        Y = RNG.normal(size=(9, 1))
        net = _realmlp(np.float64, IdentitySquaredError(), "mish", 1)
    net.params += np.random.RandomState(5).uniform(-0.1, 0.1, size=net.params.shape)
    keys = np.arange(1, 10, dtype=np.uint64)
    sw = np.random.RandomState(2).uniform(0.5, 2.0, size=9)
    assert check_network_gradient(net, XC, Y, dropout_keys=keys) < 1e-6
    assert check_network_gradient(net, XC, Y, dropout_keys=keys, sample_weight=sw,
                                  alpha=0.1) < 1e-6


def test_whole_network_predicts_what_it_trains_on():
    net = _realmlp(np.float64, SoftmaxCrossEntropy(), "selu", 3)
    ws = net.workspace(9)
    logits = net.forward(XC, ws, training=False)
    np.testing.assert_allclose(net.predict_output(XC), net.head.predict(logits.copy()),
                               rtol=1e-13)
    a = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(a.predict_output(XC), net.predict_output(XC))


def test_whole_network_is_deterministic_for_a_seed():
    a = _realmlp(np.float64, SoftmaxCrossEntropy(), "selu", 3)
    b = _realmlp(np.float64, SoftmaxCrossEntropy(), "selu", 3)
    np.testing.assert_array_equal(a.params, b.params)


def test_float32_stays_float32():
    Y = np.eye(3, dtype=bool)[RNG.randint(3, size=9)]
    net = _realmlp(np.float32, SoftmaxCrossEntropy(), "mish", 3)
    assert net.params.dtype == np.float32
    x32 = XC.astype(np.float32)
    ws = net.workspace(9)
    x, ctx = x32, Pass(training=True, dropout_keys=np.arange(1, 10, dtype=np.uint64))
    for layer, slot in zip(net.layers, ws.slots):
        x = layer.forward(x, slot, ctx)
        assert x.dtype == np.float32, type(layer).__name__
    x = x32
    for layer in net.layers:
        x = layer.forward(x, None, Pass())
        assert x.dtype == np.float32, type(layer).__name__
    net.loss_and_grad(x32, Y, ws, dropout_keys=np.arange(1, 10, dtype=np.uint64))
    assert net.grads.dtype == np.float32 and np.all(np.isfinite(net.grads))
    assert net.predict_output(x32).dtype == np.float32
    ref = _realmlp(np.float64, SoftmaxCrossEntropy(), "mish", 3)
    np.testing.assert_allclose(net.predict_output(x32), ref.predict_output(XC),
                               rtol=1e-4, atol=1e-5)
