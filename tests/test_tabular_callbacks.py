"""scikit-learn's callback API on the tabular estimators: fit -> member -> epoch tasks."""

import threading
import time

import numpy as np
import pytest
from callback_helpers import StopAt
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor
from sknumpy_mlp.tabular._threads import available_threads

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")

SMALL = dict(hidden_layer_sizes=(16,), n_epochs=4, random_state=0)


@pytest.fixture(scope="module")
def table():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:200, :8].copy()
    X["size"] = np.where(X["mean radius"] > 14, "large", "small")
    X.loc[X.index[::7], "mean texture"] = np.nan
    return X, y[:200]


def _rows(monitor, name):
    return [r for r in monitor.get_logs().data if r["task_name"] == name]


def test_scoring_monitor_logs_members_and_epochs(table):
    X, y = table
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = TabularMLPClassifier(n_members=2, **SMALL).set_callbacks(monitor).fit(X, y)
    epochs, members = _rows(monitor, "epoch"), _rows(monitor, "member")
    assert len(members) == clf.n_members_ == 2
    assert len(epochs) == 2 * clf.n_iter_ == 8
    # member x epoch; the members train side by side, so their epochs interleave
    assert sorted(r["task_id_path"][1] for r in epochs) == [0] * 4 + [1] * 4
    (fit,) = _rows(monitor, "fit")
    assert fit["accuracy"] == pytest.approx(clf.score(X, y))
    # The member that ends last shows the whole ensemble (the log is in task order).
    assert clf.score(X, y) in [pytest.approx(r["accuracy"]) for r in members]


def test_one_member_still_has_a_member_task(table):
    X, y = table
    monitor = callback.ScoringMonitor(scoring="accuracy")
    TabularMLPClassifier(n_members=1, **SMALL).set_callbacks(monitor).fit(X, y)
    assert len(_rows(monitor, "member")) == 1 and len(_rows(monitor, "epoch")) == 4


def test_progress_bar(table, capsys):
    pytest.importorskip("rich")
    X, y = table
    TabularMLPClassifier(n_members=2, **SMALL).set_callbacks(callback.ProgressBar()).fit(
        X, y)
    out = capsys.readouterr().out
    assert "TabularMLPClassifier - fit" in out
    assert "member" in out


def test_stop_in_the_first_member_keeps_it(table):
    X, y = table
    stop = StopAt(2)
    clf = TabularMLPClassifier(n_members=3, validation_fraction=0,
                               **{**SMALL, "n_epochs": 50})
    with threadpool_limits(limits=1):  # one thread: the members one after the other
        clf.set_callbacks(stop).fit(X, y)
    assert clf.n_members_ == 1 and clf.n_iter_ == 2 == len(clf.loss_curve_)
    assert clf.best_epochs_ == [1]
    # Without a hold-out the last epoch is kept: the weights the callback last saw.
    np.testing.assert_array_equal(clf.predict_proba(X), stop.fitted[-1].predict_proba(X))


def test_stop_in_a_later_member_drops_that_member(table):
    X, y = table
    stop = StopAt(4 + 2)  # two epochs into the second member
    clf = TabularMLPClassifier(n_members=3, **SMALL).set_callbacks(stop)
    with threadpool_limits(limits=1):
        clf.fit(X, y)
    assert clf.n_members_ == 1 and clf.n_iter_ == 4 == len(clf.loss_curve_)
    assert len(clf.validation_scores_) == 4 and len(clf.best_epochs_) == 1
    first = TabularMLPClassifier(n_members=1, **SMALL).fit(X, y)  # the same member
    np.testing.assert_array_equal(clf.predict_proba(X), first.predict_proba(X))


def test_stop_after_a_member(table):
    class StopAfterMember(StopAt):
        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "member":
                self.fitted.append(fitted_estimator)
                return True
            return False

    X, y = table
    stop = StopAfterMember(0)
    clf = TabularMLPClassifier(n_members=3, **SMALL).set_callbacks(stop)
    with threadpool_limits(limits=1):
        clf.fit(X, y)
    assert clf.n_members_ == 1 and clf.n_iter_ == 4
    np.testing.assert_array_equal(clf.predict_proba(X), stop.fitted[0].predict_proba(X))


class Threads(StopAt):
    """Records the thread and the member of every hook, and whether two overlapped."""

    def __init__(self, n):
        super().__init__(n)
        self.threads, self.members, self.inside, self.overlapped = set(), set(), 0, False

    def on_fit_task_begin(self, estimator, context):
        self._enter(context)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self._enter(context)
        return super().on_fit_task_end(estimator, context,
                                       fitted_estimator=fitted_estimator)

    def _enter(self, context):
        self.inside += 1
        self.overlapped |= self.inside > 1
        time.sleep(0.001)  # a slow hook: another thread's would overlap without the lock
        if context.task_name == "member":
            self.members.add(context.task_id)
            self.threads.add(threading.get_ident())
        self.inside -= 1


def test_members_train_side_by_side_with_callbacks(table):
    X, y = table
    if available_threads() < 2:
        pytest.skip("one usable thread here: the members run one after the other")
    seen = Threads(10**6)  # never stops
    clf = TabularMLPClassifier(n_members=2, **SMALL).set_callbacks(seen).fit(X, y)
    assert len(seen.threads) == 2 and seen.members == {0, 1}
    assert not seen.overlapped  # one hook at a time
    plain = TabularMLPClassifier(n_members=2, **SMALL).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))


def test_a_stop_stops_every_running_member(table):
    X, y = table
    stop = Threads(4 + 2)  # side by side: two epochs into both members, or so
    clf = TabularMLPClassifier(n_members=3, **{**SMALL, "n_epochs": 40})
    clf.set_callbacks(stop).fit(X, y)
    assert stop.seen <= 6 + 1  # the other member finishes the epoch it is in
    assert 2 not in stop.members  # no member starts after the stop
    assert clf.n_members_ == 1 and 1 <= clf.n_iter_ < 40  # the first member, cut short
    assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.validation_scores_)


def test_epoch_snapshots_do_not_move(table):
    X, y = table
    stop = StopAt(10**6)  # records every epoch, never stops
    clf = TabularMLPClassifier(n_members=1, **SMALL).set_callbacks(stop).fit(X, y)
    probas = [f.predict_proba(X) for f in stop.fitted]
    assert len(probas) == clf.n_iter_
    assert not np.array_equal(probas[0], probas[-1])


def test_without_callbacks_results_are_unchanged(table):
    X, y = table
    plain = TabularMLPClassifier(n_members=2, **SMALL).fit(X, y)
    monitored = TabularMLPClassifier(n_members=2, **SMALL)
    monitored.set_callbacks(callback.ScoringMonitor(scoring="accuracy")).fit(X, y)
    np.testing.assert_array_equal(plain.predict_proba(X), monitored.predict_proba(X))
    assert plain.loss_curve_ == monitored.loss_curve_


def test_regressor_and_verbose_output(capsys):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    monitor = callback.ScoringMonitor(scoring="r2")
    reg = TabularMLPRegressor(n_members=1, verbose=1, **SMALL).set_callbacks(monitor)
    reg.fit(X[:200], y[:200])
    assert len(_rows(monitor, "epoch")) == 4
    assert capsys.readouterr().out.count("Epoch ") == 4  # the verbose lines still print


def test_callbacks_propagate_through_pipeline_and_search(table, capsys):
    X, y = table
    monitor = callback.ScoringMonitor(scoring="accuracy")
    inner = TabularMLPClassifier(n_members=1, **{**SMALL, "n_epochs": 2})
    GridSearchCV(inner.set_callbacks(monitor), {"dropout": [0.0, 0.1]}, cv=2).fit(X, y)
    (log,) = monitor.get_logs(select="all")
    fits = [r for r in log.data if r["task_name"] == "fit"]
    epochs = [r for r in log.data if r["task_name"] == "epoch"]
    assert len(fits) == 2 * 2 + 1 and len(epochs) == 2 * len(fits)

    pytest.importorskip("rich")
    pipe = make_pipeline(TabularMLPClassifier(n_members=1, **SMALL))
    pipe.set_callbacks(callback.ProgressBar(max_propagation_depth=None)).fit(X, y)
    out = capsys.readouterr().out
    assert "Pipeline - fit" in out and "TabularMLPClassifier - fit" in out
