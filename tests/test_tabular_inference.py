"""Ensemble prediction in chunks of rows: the same numbers as one plain pass.

BLAS may round a product's last bits by its shape (a one-row batch goes through gemv,
narrow products are blocked by batch size), so a chunk can change a float32 layer's
output by about 1e-7 relative; the comparisons allow that (rtol 1e-5, atol 1e-6),
far below what a misplaced or mixed-up row would change.
"""

import threading

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor, _inference
from sknumpy_mlp.tabular._inference import predict_ensemble, predict_member


def _fitted(cls, n_members=3, seed=0, hidden=(16, 16)):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                      "c": pd.Categorical(rng.choice(["u", "v", "w"], 300))})
    X.loc[rng.rand(300) < 0.1, "a"] = np.nan
    y = (X["b"] + (X["c"] == "u") > 0.3).astype(int).to_numpy()
    if cls is TabularMLPRegressor:
        y = X["b"].to_numpy() + rng.normal(scale=0.1, size=300)
    model = cls(hidden_layer_sizes=hidden, n_epochs=3, n_members=n_members,
                random_state=seed).fit(X, y)
    return model, model.preprocessor_.transform(X)


def _plain(networks, Z):
    """The reference: each member on all rows at once, fresh arrays, then the mean."""
    return np.mean([predict_member(net, Z) for net in networks], axis=0)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # outputs are of order 1


@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
@pytest.mark.parametrize("blas_threads", [1, 2])
@pytest.mark.parametrize("chunk_rows", [7, 64, 512])
def test_chunks_give_the_plain_pass(cls, blas_threads, chunk_rows, monkeypatch):
    model, Z = _fitted(cls)
    expected = _plain(model._networks, Z)
    monkeypatch.setattr(_inference, "chunk_rows", lambda net: chunk_rows)
    with threadpool_limits(blas_threads, user_api="blas"):
        got = predict_ensemble(model._networks, Z)
        one_by_one = np.vstack([predict_ensemble(model._networks, Z[i:i + 1])
                                for i in range(0, len(Z), 37)])
    _close(got, expected)
    _close(one_by_one, expected[::37])


def test_a_single_member_is_its_own_output():
    model, Z = _fitted(TabularMLPClassifier, n_members=1)
    np.testing.assert_array_equal(predict_ensemble(model._networks, Z),
                                  predict_member(model._networks[0], Z))


@pytest.mark.parametrize("n, rows, sizes", [(513, 512, [256, 257]), (17, 16, [8, 9]),
                                           (1, 16, [1]), (48, 16, [16, 16, 16])])
def test_equal_chunks_never_leave_a_lone_row(n, rows, sizes, monkeypatch):
    model, Z = _fitted(TabularMLPClassifier, n_members=2)
    Z = np.resize(Z, (n, Z.shape[1]))
    seen = []
    member = _inference.predict_member
    monkeypatch.setattr(_inference, "predict_member",
                        lambda net, x: seen.append(len(x)) or member(net, x))
    monkeypatch.setattr(_inference, "chunk_rows", lambda net: rows)
    got = predict_ensemble(model._networks, Z)
    assert seen == sizes * 2
    _close(got, _plain(model._networks, Z))


@pytest.mark.parametrize("n_numeric, rows", [(2, 512), (300, 40), (5000, 16)])
def test_chunk_rows_follow_the_widest_array_per_row(n_numeric, rows):
    """The periodic embedding's (features x 16) float32 cosines per row decide."""
    X = np.random.RandomState(0).normal(size=(40, n_numeric))
    model = TabularMLPClassifier(hidden_layer_sizes=(8,), n_epochs=1, n_members=1,
                                 random_state=0).fit(X, np.arange(40) % 2)
    net = model._networks[0]
    assert _inference.chunk_rows(net) == rows
    expected = min(512, max(16, _inference.CHUNK_BYTES // (n_numeric * 16 * 4)))
    assert rows == expected


def test_concurrent_predictions_with_one_model_are_safe(monkeypatch):
    model, Z = _fitted(TabularMLPClassifier)
    monkeypatch.setattr(_inference, "chunk_rows", lambda net: 16)
    expected = _plain(model._networks, Z)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(predict_ensemble(model._networks, Z))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 20
    for r in results:
        _close(r, expected)
