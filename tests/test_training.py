"""The training loop: every input layout trains to the same weights, with one copy."""

import numpy as np
import pandas as pd
import pytest

from sknumpy_mlp import MLPScratchClassifier, _training


def _data(dtype=np.float64):
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6).astype(dtype)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    return X, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_layouts_train_identically(dtype, early_stopping):
    X, y = _data(dtype)
    layouts = {
        "C": X,
        "F": np.asfortranarray(X),
        "DataFrame": pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]),
    }
    fitted = {name: MLPScratchClassifier((8,), max_iter=5, random_state=0,
                                         early_stopping=early_stopping).fit(Xi, y)
              for name, Xi in layouts.items()}
    for name, est in fitted.items():
        assert est.coefs_[0].dtype == dtype
        for a, b in zip(est.coefs_ + est.intercepts_,
                        fitted["C"].coefs_ + fitted["C"].intercepts_, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_column_major_input_is_copied_once_per_fit(monkeypatch):
    """A Fortran-ordered X is made row-major once, before the first epoch, not per epoch."""
    X, y = _data()
    calls = []
    original = np.ascontiguousarray

    def counting(a, *args, **kwargs):
        calls.append(a.shape)
        return original(a, *args, **kwargs)

    monkeypatch.setattr(_training.np, "ascontiguousarray", counting)
    MLPScratchClassifier((8,), max_iter=7, random_state=0).fit(np.asfortranarray(X), y)
    assert calls == [X.shape]
    calls.clear()
    MLPScratchClassifier((8,), max_iter=7, random_state=0).fit(X, y)
    assert calls == []


def _trainer(batch_norm, batch_size):
    net = type("Net", (), {"batch_norm": batch_norm})()
    return _training.StochasticTrainer(
        net, None, None, None, batch_size=batch_size, shuffle=True, rng=None, alpha=0,
        label_smoothing=0, clip_grad_norm=None, max_iter=1, reporter=None)


def _sizes(batches):
    return [b.stop - b.start for b in batches]


@pytest.mark.parametrize("n, sizes", [(65, [32, 33]), (33, [33]), (64, [32, 32]),
                                      (66, [32, 32, 2]), (20, [20])])
def test_batch_norm_merges_a_trailing_single_sample(n, sizes):
    batches = _trainer(True, 32).batches(n)
    assert _sizes(batches) == sizes
    assert batches[0].start == 0 and batches[-1].stop == n
    # Without batch norm the batches are scikit-learn's, a batch of one included.
    assert _sizes(_trainer(False, 32).batches(65)) == [32, 32, 1]
