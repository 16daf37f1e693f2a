"""scikit-learn's callback API on our estimator: progress bar, scores, stop requests."""

import importlib
import pickle
import sys

import numpy as np
import pytest
from callback_helpers import StopAt
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpy_mlp import MLPScratchClassifier, _callbacks

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def test_progress_bar_over_epochs(digits, capsys):
    pytest.importorskip("rich")
    X, y = digits
    clf = MLPScratchClassifier((16,), max_iter=5, random_state=0)
    clf.set_callbacks(callback.ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "MLPScratchClassifier - fit" in out
    assert "5/5" in out or "100%" in out


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_scoring_monitor_records_every_epoch(digits, solver):
    X, y = digits
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = MLPScratchClassifier((16,), solver=solver, max_iter=6, random_state=0)
    clf.set_callbacks(monitor).fit(X, y)
    leaf = "iteration" if solver == "lbfgs" else "epoch"
    rows = [r for r in monitor.get_logs().data if r["task_name"] == leaf]
    assert len(rows) == clf.n_iter_ == len(clf.loss_curve_)
    scores = [r["accuracy"] for r in rows]
    assert scores[-1] == pytest.approx(clf.score(X, y))
    assert scores[-1] > scores[0]  # each score is of the weights at that epoch


def test_scoring_monitor_sees_the_training_part_with_early_stopping(digits):
    X, y = digits
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = MLPScratchClassifier((16,), max_iter=4, early_stopping=True, random_state=0,
                               n_iter_no_change=100)
    clf.set_callbacks(monitor).fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == clf.n_iter_ == 4


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_callback_can_stop_training_cleanly(digits, solver):
    X, y = digits
    stop = StopAt(3)
    clf = MLPScratchClassifier((16,), solver=solver, max_iter=50, random_state=0)
    clf.set_callbacks(stop).fit(X, y)
    assert clf.n_iter_ == 3 == len(clf.loss_curve_)
    assert clf.loss_ == clf.loss_curve_[-1]
    # The estimator is consistent: its weights are the ones the last callback saw.
    np.testing.assert_array_equal(clf.predict_proba(X),
                                  stop.fitted[-1].predict_proba(X))


def test_fitted_estimators_given_to_callbacks_are_snapshots(digits):
    X, y = digits
    stop = StopAt(4)
    clf = MLPScratchClassifier((16,), batch_norm=True, max_iter=50, random_state=0)
    clf.set_callbacks(stop).fit(X, y)
    first = stop.fitted[0].predict_proba(X)
    clf.partial_fit(X, y)  # training goes on; the snapshot must not move
    np.testing.assert_array_equal(stop.fitted[0].predict_proba(X), first)
    assert not np.array_equal(first, clf.predict_proba(X))


def test_stop_with_early_stopping_restores_the_best_weights(digits):
    X, y = digits
    clf = MLPScratchClassifier((16,), max_iter=50, early_stopping=True, random_state=0)
    clf.set_callbacks(StopAt(5)).fit(X, y)
    assert clf.n_iter_ == 5
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_without_callbacks_results_are_unchanged(digits):
    X, y = digits
    plain = MLPScratchClassifier((16,), max_iter=5, random_state=0).fit(X, y)
    monitored = MLPScratchClassifier((16,), max_iter=5, random_state=0)
    monitored.set_callbacks(callback.ScoringMonitor(scoring="accuracy")).fit(X, y)
    for a, b in zip(plain.coefs_, monitored.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_callbacks_propagate_through_pipeline_and_search(digits, capsys):
    pytest.importorskip("rich")
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPScratchClassifier((8,), max_iter=3,
                                                              random_state=0))
    pipe.set_callbacks(callback.ProgressBar(max_propagation_depth=None)).fit(X, y)
    out = capsys.readouterr().out
    assert "Pipeline - fit" in out and "MLPScratchClassifier - fit" in out

    monitor = callback.ScoringMonitor(scoring="accuracy")
    inner = MLPScratchClassifier((8,), max_iter=2, random_state=0).set_callbacks(monitor)
    GridSearchCV(inner, {"alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    (log,) = monitor.get_logs(select="all")  # one run: the search's fit
    epochs = [r for r in log.data if r["task_name"] == "epoch"]
    fits = [r for r in log.data if r["task_name"] == "fit"]
    assert len(fits) == 2 * 2 + 1  # 2 candidates x 2 folds, then the refit
    assert len(epochs) == 2 * len(fits)


def test_partial_fit_is_one_task(digits):
    X, y = digits
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = MLPScratchClassifier((8,), random_state=0).set_callbacks(monitor)
    clf.partial_fit(X, y, classes=np.unique(y))
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == 1


def test_clone_and_pickle_with_callbacks(digits):
    X, y = digits
    clf = MLPScratchClassifier((8,), max_iter=2, random_state=0)
    clf.set_callbacks(callback.ScoringMonitor(scoring="accuracy")).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert not hasattr(clone(clf), "coefs_")


def test_old_scikit_learn_has_no_set_callbacks(monkeypatch):
    """With scikit-learn < 1.9 the mixin is empty and fit runs as before."""
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)  # import fails
    old = importlib.reload(_callbacks)
    try:
        assert not old.HAS_CALLBACKS
        assert not hasattr(old.CallbackSupportMixin, "set_callbacks")
        assert old.with_callbacks(len) is len
    finally:
        monkeypatch.undo()
        importlib.reload(_callbacks)
