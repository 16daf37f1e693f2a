"""The fast batch norm equals the textbook one, forward and backward."""

from types import SimpleNamespace

import numpy as np
import pytest

from sknumpy_mlp._batch_norm import BatchNorm, reference_backward, reference_forward
from sknumpy_mlp._layers import Pass
from sknumpy_mlp._layout import Layout


def _bound(n, rng):
    bn = BatchNorm(n)
    layout = Layout([bn])
    params, grads, state = (np.zeros(layout.n_params), np.zeros(layout.n_params),
                            np.zeros(layout.n_state))
    bn.bind(layout.views(params)[0], layout.views(grads)[0],
            layout.views(state, "state")[0])
    bn.initialize(rng, None)
    bn.gamma[...] = rng.uniform(0.5, 1.5, n)
    bn.beta[...] = rng.normal(size=n)
    return bn


@pytest.mark.parametrize("weighted", [False, True])
def test_training_pass_matches_the_reference(weighted):
    rng = np.random.RandomState(0)
    z, dy = rng.normal(2.0, 3.0, size=(11, 5)), rng.normal(size=(11, 5))
    w = rng.uniform(0.2, 3.0, size=11) if weighted else None
    bn = _bound(5, rng)
    ws = bn.buffers(11, lambda shape, dtype=np.float64: np.empty(shape, dtype))
    ctx = Pass(training=True, sample_weight=w)
    y = bn.forward(z, ws, ctx).copy()
    dz = bn.backward(dy.copy(), ws, ctx)
    y_ref, z_hat, var = reference_forward(z, bn.gamma, bn.beta, w)
    dz_ref, dgamma, dbeta = reference_backward(dy, z_hat, var, bn.gamma, w)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dz, dz_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.gamma_grad, dgamma, rtol=1e-12)
    np.testing.assert_allclose(bn.beta_grad, dbeta, rtol=1e-12)


def test_running_statistics_follow_the_unbiased_batch_variance():
    rng = np.random.RandomState(1)
    z = rng.normal(1.0, 2.0, size=(40, 3))
    bn = _bound(3, rng)
    ws = bn.buffers(40, lambda shape, dtype=np.float64: np.empty(shape, dtype))
    bn.forward(z, ws, Pass(training=True))
    np.testing.assert_allclose(bn.running_mean, 0.1 * z.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * z.var(0, ddof=1))


def test_inference_is_the_affine_map_and_does_not_touch_the_state():
    rng = np.random.RandomState(2)
    bn = _bound(4, rng)
    bn.running_mean[...] = rng.normal(size=4)
    bn.running_var[...] = rng.uniform(0.5, 2.0, size=4)
    state = bn.running_mean.copy(), bn.running_var.copy()
    z = rng.normal(size=(6, 4))
    scale, shift = bn.affine()
    np.testing.assert_allclose(bn.forward(z.copy(), None, Pass()), z * scale + shift,
                               rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, state[0])
    np.testing.assert_array_equal(bn.running_var, state[1])


def test_initial_values():
    bn = _bound(3, np.random.RandomState(0))
    bn.initialize(None, SimpleNamespace())
    assert (bn.gamma == 1).all() and (bn.beta == 0).all()
    assert (bn.running_mean == 0).all() and (bn.running_var == 1).all()
