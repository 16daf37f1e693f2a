"""The flat buffer's layout: scikit-learn's packing order, decay by kind."""

import numpy as np
import pytest

from sknumpy_mlp._layers import Layer
from sknumpy_mlp._layout import KINDS, Layout, Param
from sknumpy_mlp._network import mlp_layers


def test_mlp_layout_is_sklearns_pack_order_then_batch_norm():
    layout = Layout(mlp_layers([5, 4, 3, 2], "relu", batch_norm=True))
    names = [(p.name, p.shape) for _, p, _ in layout.params]
    assert names == [("coef", (5, 4)), ("coef", (4, 3)), ("coef", (3, 2)),
                     ("intercept", (4,)), ("intercept", (3,)), ("intercept", (2,)),
                     ("gamma", (4,)), ("beta", (4,)), ("gamma", (3,)), ("beta", (3,))]
    assert layout.n_decay == 20 + 12 + 6
    assert layout.n_params == 38 + 9 + 14
    assert layout.n_state == 14
    offsets = [o for _, _, o in layout.params]
    assert offsets == sorted(offsets) and offsets[0] == 0


def test_views_are_reshaped_slices_of_the_buffer():
    layers = mlp_layers([3, 2, 1], "tanh")
    layout = Layout(layers)
    buffer = np.arange(layout.n_params, dtype=float)
    views = layout.views(buffer)
    assert np.shares_memory(views[0]["coef"], buffer)
    np.testing.assert_array_equal(views[0]["coef"].ravel(), buffer[:6])
    assert views[1] == {}  # the activation owns nothing


def test_decayed_kinds_come_first_and_unknown_kinds_are_refused():
    decayed = [k.decay for k in KINDS.values()]
    assert decayed == sorted(decayed, reverse=True)

    class Odd(Layer):
        def params(self):
            return [Param("w", (2,), "no-such-kind")]

    with pytest.raises(ValueError, match="unknown parameter kinds"):
        Layout([Odd()])


def test_factor_vectors_follow_the_declarations():
    class Two(Layer):
        def params(self):
            return [Param("a", (2, 2), "weight", lr=0.5, wd=0.0),
                    Param("s", (3,), "embedding", lr=6.0)]

    layout = Layout([Two()])
    np.testing.assert_array_equal(layout.factors("lr"), [0.5] * 4 + [6.0] * 3)
    np.testing.assert_array_equal(layout.factors("wd"), [0.0] * 4 + [1.0] * 3)
