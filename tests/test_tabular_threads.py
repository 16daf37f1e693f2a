"""The members of a tabular ensemble on threads: the same model on any number of them."""

import re
import threading
import time

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes
from threadpoolctl import threadpool_info, threadpool_limits

from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor, _base
from sknumpy_mlp.tabular._threads import available_threads, run_members

SMALL = dict(hidden_layer_sizes=(16, 16), n_epochs=3, n_members=3, random_state=0)


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def _fit(cls, X, y, threads, monkeypatch, **params):
    monkeypatch.setattr(_base, "available_threads", lambda: threads)
    return cls(**{**SMALL, **params}).fit(X, y)


@pytest.mark.parametrize("cls, data", [(TabularMLPClassifier, load_breast_cancer),
                                       (TabularMLPRegressor, load_diabetes)])
def test_the_model_does_not_depend_on_the_number_of_threads(cls, data, monkeypatch):
    X, y = data(return_X_y=True, as_frame=True)
    X, y = X[:150], y[:150]
    fits = [_fit(cls, X, y, threads, monkeypatch) for threads in (1, 2, 3)]
    for other in fits[1:]:
        for net, same in zip(fits[0]._networks, other._networks, strict=True):
            np.testing.assert_array_equal(net.params, same.params)
        assert other.loss_curve_ == fits[0].loss_curve_
        assert other.best_epochs_ == fits[0].best_epochs_
    # The members differ from each other: each has its own stream and hold-out.
    first, second = fits[0]._networks[:2]
    assert not np.array_equal(first.params, second.params)


def test_verbose_lines_name_their_member(monkeypatch, capsys):
    X, y = load_breast_cancer(return_X_y=True)
    _fit(TabularMLPClassifier, X[:120], y[:120], 2, monkeypatch, n_members=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    found = sorted(re.findall(r"^Member (\d) of 2, epoch (\d), loss = ", "\n".join(lines),
                              re.MULTILINE))
    assert found == [(m, e) for m in "12" for e in "123"]
    _fit(TabularMLPClassifier, X[:120], y[:120], 2, monkeypatch, n_members=1, verbose=1)
    assert capsys.readouterr().out.startswith("Epoch 1, loss = ")


def test_members_run_with_one_blas_thread_and_the_callers_settings():
    def job(stop):
        return threading.get_ident(), _blas_threads(), sklearn.get_config()["assume_finite"]

    with sklearn.config_context(assume_finite=True):
        results = run_members([job] * 4, 2)
    assert all(blas == [1] * len(blas) for _, blas, _ in results)
    assert all(finite for _, _, finite in results)  # scikit-learn's config travels
    assert threading.get_ident() not in {ident for ident, _, _ in results}
    # one thread: in order, in the calling thread
    assert {ident for ident, _, _ in run_members([job] * 2, 1)} == {threading.get_ident()}


@pytest.mark.parametrize("failing_first", [True, False])
def test_a_failing_member_stops_the_others_and_its_error_is_raised(failing_first):
    started, stopped, ran = threading.Event(), [], []

    def failing(stop):
        started.wait(5)
        raise ValueError("Training diverged")

    def patient(stop):
        started.set()
        stopped.append(stop.wait(5))  # an epoch loop would see the flag
        return "done"

    def queued(stop):
        ran.append(True)

    jobs = [failing, patient] if failing_first else [patient, failing]
    start = time.perf_counter()
    with pytest.raises(ValueError, match="diverged"):
        run_members([*jobs, queued], 2)
    assert stopped == [True] and ran == []  # at once, whatever the order
    assert time.perf_counter() - start < 4


def test_errstate_and_blas_limit_reach_the_threads_and_come_back():
    before = _blas_threads()

    def job(stop):
        return np.geterr()["divide"]

    with np.errstate(divide="raise"):
        assert run_members([job] * 3, 2) == ["raise"] * 3
    assert _blas_threads() == before


def test_fits_in_other_threads_leave_the_blas_limit_alone():
    # Two fits at once from two threads (a search on joblib's threading backend):
    # neither limits BLAS, so neither can leave it limited.
    before, seen = _blas_threads(), []
    both = threading.Barrier(2)

    def job(stop):
        seen.append(_blas_threads())
        return None

    def fit_like():
        both.wait(5)
        run_members([job, job], available_threads())

    threads = [threading.Thread(target=fit_like) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [before] * 4
    assert _blas_threads() == before
    # and the main thread still limits it
    assert run_members([lambda stop: _blas_threads()] * 2, 1) == [[1] * len(before)] * 2
    assert _blas_threads() == before


def test_threads_follow_the_blas_limit():
    with threadpool_limits(1, user_api="blas"):
        assert available_threads() == 1
    seen = []
    worker = threading.Thread(target=lambda: seen.append(available_threads()))
    worker.start()
    worker.join()
    assert seen == [1]  # a fit outside the main thread: its caller runs others
    assert 1 <= available_threads() <= joblib.cpu_count()
