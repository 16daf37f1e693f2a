"""Ensemble prediction in chunks and threads: the same numbers as one plain pass.

Every float32 layer computes each row on its own, bit for bit whatever the batch; the
float64 output layer's product may round its last bit by batch shape (BLAS gemv). So
the comparisons allow float64 rounding (rtol 1e-12), a million times below what a batch-
dependent float32 layer would change (about 1e-7).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor, _inference
from sknumpy_mlp.tabular._inference import predict_ensemble, predict_member


def _fitted(cls, n_members=3, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                      "c": pd.Categorical(rng.choice(["u", "v", "w"], 300))})
    X.loc[rng.rand(300) < 0.1, "a"] = np.nan
    y = (X["b"] + (X["c"] == "u") > 0.3).astype(int).to_numpy()
    if cls is TabularMLPRegressor:
        y = X["b"].to_numpy() + rng.normal(scale=0.1, size=300)
    model = cls(hidden_layer_sizes=(16, 16), n_epochs=3, n_members=n_members,
                random_state=seed).fit(X, y)
    return model, model.preprocessor_.transform(X)


def _plain(networks, Z):
    """The reference: each member on all rows at once, on this thread, then the mean."""
    return np.mean([predict_member(net, Z) for net in networks], axis=0)


def _blas_limits():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
@pytest.mark.parametrize("blas_threads", [1, 2])
@pytest.mark.parametrize("chunk_rows", [7, 64, 512])
def test_chunks_and_threads_give_the_plain_pass(cls, blas_threads, chunk_rows,
                                                            monkeypatch):
    model, Z = _fitted(cls)
    expected = _plain(model._networks, Z)
    monkeypatch.setattr(_inference, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(_inference, "MIN_THREADED_ROWS", 0)
    pools = []
    monkeypatch.setattr(_inference, "ThreadPoolExecutor",
                        lambda n: pools.append(n) or ThreadPoolExecutor(n))
    with threadpool_limits(blas_threads, user_api="blas"):
        got = predict_ensemble(model._networks, Z)
        assert pools == ([] if blas_threads == 1 else [2])  # the path under test ran
        one_by_one = np.vstack([predict_ensemble(model._networks, Z[i:i + 1])
                                for i in range(0, len(Z), 37)])
        assert _blas_limits() == [blas_threads] * len(_blas_limits())
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(one_by_one, expected[::37], rtol=1e-12, atol=1e-15)


def test_a_single_member_is_its_own_output(monkeypatch):
    model, Z = _fitted(TabularMLPClassifier, n_members=1)
    monkeypatch.setattr(_inference, "MIN_THREADED_ROWS", 0)
    with threadpool_limits(2, user_api="blas"):
        np.testing.assert_array_equal(predict_ensemble(model._networks, Z),
                                      predict_member(model._networks[0], Z))


def test_concurrent_predictions_leave_the_blas_limit_as_it_was(monkeypatch):
    model, Z = _fitted(TabularMLPClassifier)
    monkeypatch.setattr(_inference, "MIN_THREADED_ROWS", 0)
    monkeypatch.setattr(_inference, "CHUNK_ROWS", 16)
    expected = _plain(model._networks, Z)
    with threadpool_limits(2, user_api="blas"):
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
        assert not errors
        assert _blas_limits() == [2] * len(_blas_limits())
    assert len(results) == 20
    for r in results:
        np.testing.assert_allclose(r, expected, rtol=1e-12, atol=1e-15)


def test_an_error_in_a_member_restores_the_blas_limit(monkeypatch):
    model, Z = _fitted(TabularMLPClassifier)
    monkeypatch.setattr(_inference, "MIN_THREADED_ROWS", 0)
    broken = model._networks[1]
    monkeypatch.setattr(broken.layers[0], "forward", lambda *a: 1 / 0)
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ZeroDivisionError):
            predict_ensemble(model._networks, Z)
        assert _blas_limits() == [2] * len(_blas_limits())
