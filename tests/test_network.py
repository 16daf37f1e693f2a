"""Finite-difference proof of the network's backward pass, and its buffer layout."""

import pickle

import numpy as np
import pytest
from scipy import sparse

from sknumpy_mlp._activations import ACTIVATIONS
from sknumpy_mlp._class_weight import class_weight_factors
from sknumpy_mlp._losses import SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from sknumpy_mlp._network import Network
from sknumpy_mlp.gradcheck import check_network_gradient


def _problem(n=12, n_features=5, n_outputs=3, multilabel=False, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_features))
    if multilabel or n_outputs == 1:
        Y = rng.rand(n, n_outputs) > 0.5
        head = SigmoidBinaryCrossEntropy()
    else:
        Y = np.eye(n_outputs, dtype=bool)[rng.randint(n_outputs, size=n)]
        head = SoftmaxCrossEntropy()
    return X, Y, head


def _keys(seed, m):
    """Fixed dropout keys: masks are keyed by (row key, step), so every call draws
    the same."""
    return np.arange(seed, seed + m, dtype=np.uint64)


def _network(activation="tanh", hidden=(4, 3), n_features=5, n_outputs=3, head=None,
             **kwargs):
    units = [n_features, *hidden, n_outputs]
    net = Network.mlp(units, activation, head or SoftmaxCrossEntropy(), np.float64,
                      **kwargs)
    return net.initialize(np.random.RandomState(1))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_whole_network_gradient_each_activation(activation):
    X, Y, head = _problem()
    net = _network(activation, head=head)
    assert check_network_gradient(net, X, Y) < 1e-6


@pytest.mark.parametrize("n_outputs, multilabel", [(1, False), (3, False), (3, True)])
def test_gradient_each_output_head(n_outputs, multilabel):
    X, Y, head = _problem(n_outputs=n_outputs, multilabel=multilabel)
    net = _network("logistic", n_outputs=n_outputs, head=head)
    assert check_network_gradient(net, X, Y) < 1e-6


def test_gradient_l2_and_sample_weight():
    X, Y, head = _problem()
    sw = np.random.RandomState(3).uniform(0.1, 3, size=X.shape[0])
    net = _network("relu", head=head)
    assert check_network_gradient(net, X, Y, alpha=0.3, sample_weight=sw) < 1e-6


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.5, 1: 4.0, 2: 1.0}])
def test_gradient_class_weights(class_weight):
    """class_weight enters the objective as per-sample factors times sample_weight:
    check the gradient with exactly the factors the estimator derives from it."""
    X, Y, head = _problem(n=15)
    labels = Y.argmax(axis=1)
    sw = np.random.RandomState(4).uniform(0.5, 2, size=X.shape[0])
    factors = class_weight_factors(class_weight, labels, np.arange(3), sw)
    assert not np.allclose(factors, factors[0])  # the classes really are weighted
    net = _network("tanh", head=head)
    assert check_network_gradient(net, X, Y, alpha=0.1, sample_weight=sw * factors) < 1e-6


def test_gradient_weighted_batch_norm():
    X, Y, head = _problem()
    sw = np.random.RandomState(3).uniform(0.0, 3, size=X.shape[0])
    net = _network("tanh", head=head, batch_norm=True)
    assert check_network_gradient(net, X, Y, alpha=0.3, sample_weight=sw) < 1e-6


def test_weighted_batch_norm_equals_repeated_rows():
    X, Y, head = _problem()
    w = np.random.RandomState(0).randint(0, 4, size=X.shape[0])
    net = _network("relu", head=head, batch_norm=True)
    net.loss_and_grad(X, Y, net.workspace(len(X)), sample_weight=w.astype(float))
    weighted = net.grads.copy(), net.state.copy()
    net.state[...] = _network("relu", head=head, batch_norm=True).state
    Xr, Yr = X.repeat(w, axis=0), Y.repeat(w, axis=0)
    net.loss_and_grad(Xr, Yr, net.workspace(len(Xr)))
    np.testing.assert_allclose(net.grads, weighted[0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(net.state, weighted[1], rtol=1e-10)


def test_gradient_label_smoothing():
    X, Y, head = _problem()
    net = _network("gelu", head=head)
    assert check_network_gradient(net, X, Y, label_smoothing=0.1, alpha=1e-2) < 1e-6


@pytest.mark.parametrize("training", [True, False])
def test_gradient_batch_norm(training):
    X, Y, head = _problem()
    net = _network("silu", head=head, batch_norm=True)
    rng = np.random.RandomState(5)
    for bn in net.norms:  # non-trivial running statistics for inference mode
        bn.running_mean[...] = rng.normal(size=bn.running_mean.shape)
        bn.running_var[...] = rng.uniform(0.5, 2, size=bn.running_var.shape)
        bn.gamma[...] = rng.uniform(0.5, 1.5, size=bn.gamma.shape)
        bn.beta[...] = rng.normal(size=bn.beta.shape)
    state = net.state.copy()
    assert check_network_gradient(net, X, Y, training=training, alpha=1e-3) < 1e-6
    if not training:
        np.testing.assert_array_equal(net.state, state)


def test_gradient_dropout_with_fixed_mask():
    X, Y, head = _problem()
    net = _network("elu", head=head, dropout=[0.3, 0.5])
    assert check_network_gradient(net, X, Y, dropout_keys=_keys(7, len(X))) < 1e-6


def test_gradient_everything_together():
    X, Y, head = _problem()
    sw = np.random.RandomState(4).uniform(0.5, 2, size=X.shape[0])
    net = _network("leaky_relu", head=head, batch_norm=True, dropout=[0.2, 0.0])
    err = check_network_gradient(net, X, Y, dropout_keys=_keys(2, len(X)), alpha=0.1,
                                 sample_weight=sw, label_smoothing=0.05)
    assert err < 1e-6


def test_sparse_input_gives_dense_results():
    X, Y, head = _problem()
    X[X < 0.3] = 0
    dense = _network("relu", head=head)
    loss_dense = dense.loss_and_grad(X, Y, dense.workspace(len(X)))
    grads_dense = dense.grads.copy()
    loss_sparse = dense.loss_and_grad(sparse.csr_matrix(X), Y, dense.workspace(len(X)))
    assert loss_sparse == pytest.approx(loss_dense, rel=1e-12)
    np.testing.assert_allclose(dense.grads, grads_dense, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dense.predict_output(sparse.csc_matrix(X)),
                               dense.predict_output(X), rtol=1e-12)


def test_coefs_and_intercepts_are_views_of_one_buffer():
    net = _network("relu", hidden=(6, 4), batch_norm=True)
    layout = net.coefs + net.intercepts
    for view in layout:
        assert np.shares_memory(view, net.params)
    # sklearn's packing order: every weight matrix first, then every bias.
    packed = np.hstack([a.ravel() for a in layout])
    np.testing.assert_array_equal(net.params[:packed.size], packed)
    assert net.n_coef == sum(c.size for c in net.coefs)
    net.params[0] = 42.0
    assert net.coefs[0][0, 0] == 42.0


def test_pickle_rebuilds_views_without_duplicating_the_buffer():
    net = _network("gelu", batch_norm=True, dropout=[0.1, 0.1])
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.params, net.params)
    for view in clone.coefs + clone.intercepts:
        assert np.shares_memory(view, clone.params)
    X = np.random.RandomState(0).normal(size=(7, 5))
    np.testing.assert_array_equal(clone.predict_output(X), net.predict_output(X))


def test_inference_does_not_depend_on_the_batch():
    net = _network("relu", batch_norm=True, dropout=[0.5, 0.5])
    X = np.random.RandomState(0).normal(size=(9, 5))
    batch = net.predict_output(X)
    alone = np.vstack([net.predict_output(X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, batch, rtol=1e-12)


def test_float32_network_stays_float32():
    units = [5, 4, 3]
    net = Network.mlp(units, "relu", SoftmaxCrossEntropy(), np.float32)
    net.initialize(np.random.RandomState(0))
    X, Y, _ = _problem()
    X = X.astype(np.float32)
    loss = net.loss_and_grad(X, Y, net.workspace(len(X)), alpha=1e-4)
    assert np.isfinite(loss)
    assert net.params.dtype == net.grads.dtype == np.float32
    assert net.predict_output(X).dtype == np.float32
