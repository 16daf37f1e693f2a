"""Every layer of the protocol, proven by finite differences one at a time."""

import pickle

import numpy as np
import pytest

from sknumpy_mlp._activations import ACTIVATIONS
from sknumpy_mlp._batch_norm import BatchNorm
from sknumpy_mlp._layers import LAYERS, ActivationLayer, Dense, Dropout, Layer, Pass
from sknumpy_mlp.gradcheck import check_layer_gradient

X = np.random.RandomState(0).normal(size=(9, 4))
W = np.random.RandomState(1).uniform(0.5, 2.0, size=9)


@pytest.mark.parametrize("training", [True, False])
def test_dense(training):
    assert check_layer_gradient(Dense(4, 3), X, training=training) < 1e-6


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_each_activation_layer(name):
    assert check_layer_gradient(ActivationLayer(name, 4), X) < 1e-6


@pytest.mark.parametrize("training", [True, False])
def test_dropout_with_its_fixed_mask(training):
    assert check_layer_gradient(Dropout(0.4, 4), X, training=training) < 1e-6


@pytest.mark.parametrize("sample_weight", [None, W])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(training, sample_weight):
    err = check_layer_gradient(BatchNorm(4), X, training=training,
                               sample_weight=sample_weight)
    assert err < 1e-6


def test_the_check_fails_a_wrong_backward():
    class Wrong(Dense):
        name = ""  # not registered

        def backward(self, dy, ws, ctx, need_dx=True):
            dx = super().backward(dy, ws, ctx, need_dx)
            self.intercept_grad *= 1.01
            return dx

    assert check_layer_gradient(Wrong(4, 3), X) > 1e-3


def test_every_registered_layer_pickles_as_its_settings():
    layers = [Dense(4, 3, index=2), ActivationLayer("gelu", 3), Dropout(0.25, 3, key=1),
              BatchNorm(3)]
    assert all(LAYERS[type(la).name] is type(la) for la in layers)
    for layer in layers:
        clone = pickle.loads(pickle.dumps(layer))
        assert type(clone) is type(layer) and clone.config() == layer.config()
        assert layer.__getstate__() == layer.config()  # no arrays, no views


def test_inference_allocates_and_leaves_its_input():
    layer = Dense(4, 3)
    layer.bind({"coef": np.ones((4, 3)), "intercept": np.zeros(3)},
               {"coef": None, "intercept": None}, {})
    x = X.copy()
    out = layer.forward(x, None, Pass())
    assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, X)


def test_base_layer_is_the_identity():
    assert Layer().forward(X, None, Pass()) is X
