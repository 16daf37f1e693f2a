"""The training loop: every input layout trains to the same weights, with one copy; its
events reach the handlers, and each handler (stopping, plateau, best weights, divergence)
does its one job.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import sknumpy_mlp._base as base_module
from sknumpy_mlp import MLPScratchClassifier, _training
from sknumpy_mlp._events import Events, Handler, Run, StopTraining
from sknumpy_mlp._handlers import (
    BestWeights,
    DivergenceFallBack,
    Progress,
    standard_handlers,
)
from sknumpy_mlp._progress import SilentReporter
from sknumpy_mlp._schedules import LearningRate
from sknumpy_mlp._stopping import Plateau, StoppingRule


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
        net, None, None, _training.TrainingConfig(batch_size=batch_size, max_iter=1),
        rng=None)


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


# ------------------------------------------------------------ events and handlers
class Said(Handler):
    """Collects what the handlers say."""

    def __init__(self):
        self.lines = []

    def message(self, run, msg):
        self.lines.append(msg)


def _run(handlers, early_stopping=False, net=None, X=None):
    history = _training.History(early_stopping=early_stopping)
    X = np.zeros((10, 2)) if X is None else X
    return Run(net, None, None, history, Events(handlers), X, None,
               validation=(X, None, None) if early_stopping else None)


def _epoch(run, handlers, loss):
    """One epoch's end as the loop announces it: record, then every epoch_end hook."""
    run.history.record_epoch(loss, run.X.shape[0])
    return [bool(h.epoch_end(run)) for h in handlers]


def test_stopping_rule_stops_after_its_patience():
    said, rule = Said(), StoppingRule(tol=0.1, n_iter_no_change=2)
    run = _run([said, rule])
    verdicts = [_epoch(run, [rule], loss)[0] for loss in [1.0, 0.5, 0.45, 0.5, 0.48]]
    # 0.45, 0.5 and 0.48 each fail to beat 0.5 by tol: the third one exhausts patience.
    assert verdicts == [False, False, False, False, True]
    assert run.history.best_loss == 0.45 and run.history.no_improvement_count == 3
    assert said.lines == ["Training loss did not improve more than tol=0.100000 for 2 "
                          "consecutive epochs. Stopping."]


def test_stopping_rule_marks_the_best_epoch():
    rule = StoppingRule(tol=0.1, n_iter_no_change=5)
    run = _run([rule])
    marks = []
    for loss in [1.0, 0.95, 2.0, 0.9]:
        _epoch(run, [rule], loss)
        marks.append(run.improved)
    assert marks == [True, True, False, True]  # best, even when not by tol
    assert run.history.no_improvement_count == 3  # none after the first beat it by tol


def _adaptive_rate(lr):
    return LearningRate("adaptive", lr, solver="sgd", power_t=0.5, max_iter=10,
                        warmup_iter=0)


def test_plateau_divides_the_rate_by_five_and_gives_patience_back():
    rate = _adaptive_rate(0.1)
    said, rule, plateau = Said(), StoppingRule(0.1, 0), Plateau(rate)
    run = _run([said, rule, plateau])
    assert _epoch(run, [rule], 1.0) == [False]
    assert _epoch(run, [rule], 1.0) == [False]  # out of patience: the rate drops instead
    assert rate.base == pytest.approx(0.02)
    assert run.history.no_improvement_count == 0
    assert said.lines == ["Training loss did not improve more than tol=0.100000 for 0 "
                          "consecutive epochs. Setting learning rate to 0.020000"]


def test_plateau_stops_once_the_rate_is_too_small():
    rate = _adaptive_rate(1e-6)
    said, rule = Said(), StoppingRule(0.1, 0)
    run = _run([said, rule, Plateau(rate)])
    assert _epoch(run, [rule], 1.0) + _epoch(run, [rule], 1.0) == [False, True]
    assert rate.base == 1e-6
    assert said.lines[-1].endswith("epochs. Learning rate too small. Stopping.")


def test_plateau_is_only_for_the_adaptive_sgd_rate():
    assert Plateau.applies(_adaptive_rate(0.1))
    for name, solver in [("adaptive", "adam"), ("constant", "sgd"), ("invscaling", "sgd")]:
        rate = LearningRate(name, 0.1, solver=solver, power_t=0.5, max_iter=10,
                            warmup_iter=0)
        assert not Plateau.applies(rate)
        assert not any(isinstance(h, Plateau) for h in standard_handlers(
            StoppingRule(1e-4, 10), rate, SilentReporter()))


@pytest.fixture
def net():
    X, y = _data()
    return MLPScratchClassifier((8,), max_iter=2, random_state=0).fit(X, y)._network


@pytest.mark.parametrize("ended_cleanly", [True, False])
def test_best_weights_restores_the_best_epoch(net, ended_cleanly):
    best = BestWeights()
    run = _run([best], early_stopping=True, net=net)
    best.fit_begin(run)
    net.params[:] = 1.0
    run.improved = True
    best.epoch_end(run)  # the best epoch so far: kept
    net.params[:] = 2.0
    run.improved = False
    best.epoch_end(run)
    run.ended_cleanly = ended_cleanly
    best.fit_end(run)
    # After an error the weights stay those training left (the fitted attributes say so).
    np.testing.assert_array_equal(net.params, 1.0 if ended_cleanly else 2.0)


def test_best_weights_does_nothing_without_early_stopping(net):
    best, before = BestWeights(), net.params.copy()
    run = _run([best], net=net)
    best.fit_begin(run)
    net.params[:] = 2.0
    run.improved = run.ended_cleanly = True
    best.epoch_end(run)
    best.fit_end(run)
    assert best.best is None and not np.array_equal(net.params, before)


def _diverge(net, X, loss):
    fallback = DivergenceFallBack()
    run = _run([fallback], net=net, X=X)
    run.Y = np.zeros((X.shape[0], net.layer_units[-1]))
    fallback.fit_begin(run)
    start = net.params.copy()
    net.params *= 0.5  # the first epoch: healthy
    run.loss = 1.0
    assert fallback.epoch_end(run) is False
    run.history.record_epoch(1.0, X.shape[0])
    fallback.epoch_begin(run)
    good = net.params.copy()
    net.params *= 10.0  # the second: diverges
    run.loss = loss
    return fallback, run, start, good


def test_divergence_falls_back_to_the_epochs_start(net):
    X = _data()[0]
    fallback, run, _, good = _diverge(net, X, loss=2e4)
    with pytest.warns(ConvergenceWarning, match="epoch 2: the loss jumped to 2e"):
        with pytest.raises(StopTraining):
            fallback.epoch_end(run)
    np.testing.assert_array_equal(net.params, good)
    assert run.history.n_iter == 1  # without early stopping, a diverged epoch is no epoch


def test_divergence_falls_back_to_the_fits_start_when_the_epochs_start_overflows(net):
    X = _data()[0]
    fallback, run, start, _ = _diverge(net, X, loss=np.nan)
    fallback.last_good.params[:] = np.inf  # the previous epoch's last step overflowed
    with pytest.warns(ConvergenceWarning, match="not finite"):
        with pytest.raises(StopTraining):
            fallback.epoch_end(run)
    np.testing.assert_array_equal(net.params, start)
    fallback.start.params[:] = np.inf
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        fallback.fall_back(run)


def test_no_divergence_below_the_jump_threshold(net):
    fallback, run, _, _ = _diverge(net, _data()[0], loss=9e3)  # < 1e4 x the best loss
    assert fallback.epoch_end(run) is False
    assert run.history.n_iter == 1 and np.isfinite(net.params).all()


class Recorder(Handler):
    """Logs the events it hears; may ask to stop at the end of epoch ``stop_at``."""

    def __init__(self, log, stop_at=None):
        self.log, self.stop_at = log, stop_at

    def fit_begin(self, run):
        self.log.append("fit_begin")

    def epoch_begin(self, run):
        self.log.append("epoch_begin")

    def batch_end(self, run, k, n_batches, loss):
        self.log.append(f"batch {k}/{n_batches}")

    def epoch_end(self, run):
        self.log.append(f"epoch_end {run.history.n_iter}")
        return run.history.n_iter == self.stop_at

    def stop(self, run):
        self.log.append(f"stop {len(run.stopped_by)}")

    def fit_end(self, run):
        self.log.append(f"fit_end {run.ended_cleanly}")


def _with_handler(monkeypatch, handler):
    real = base_module.standard_handlers
    monkeypatch.setattr(base_module, "standard_handlers",
                        lambda *args: [*real(*args), handler])


def test_a_handler_hears_the_loop_and_can_stop_it(monkeypatch):
    log = []
    _with_handler(monkeypatch, Recorder(log, stop_at=2))
    X, y = _data()
    est = MLPScratchClassifier((8,), batch_size=150, max_iter=50, random_state=0)
    est.fit(X, y)
    assert est.n_iter_ == 2
    assert log == ["fit_begin", "epoch_begin", "batch 1/2", "batch 2/2", "epoch_end 1",
                   "epoch_begin", "batch 1/2", "batch 2/2", "epoch_end 2", "stop 1",
                   "fit_end True"]


def test_fit_end_comes_after_an_error(monkeypatch):
    log = []
    _with_handler(monkeypatch, Recorder(log))
    monkeypatch.setattr(Plateau, "applies", staticmethod(lambda rate: False))
    monkeypatch.setattr(StoppingRule, "update", lambda self, history: 1 / 0)
    X, y = _data()
    with pytest.raises(ZeroDivisionError):
        MLPScratchClassifier((8,), batch_size=300, random_state=0).fit(X, y)
    assert log == ["fit_begin", "epoch_begin", "batch 1/1", "fit_end False"]


def test_only_the_handlers_with_a_hook_hear_it():
    class Quiet:  # no hooks at all, and no base class: duck typing is enough
        pass

    said, quiet = Said(), Quiet()
    events = Events([quiet, said, Handler()])
    assert events.hooks("message") == [said.message]
    assert events.ask("epoch_end", None) == []
    _run([said]).say("hello")
    assert said.lines == ["hello"]


def test_progress_says_a_callback_stopped_only_when_nothing_else_did():
    class Asking(SilentReporter):
        def __init__(self):
            self.lines = []

        def epoch_end(self, history):
            return True

        def message(self, msg):
            self.lines.append(msg)

    reporter = Asking()
    progress, rule = Progress(reporter), StoppingRule(0.1, 0)
    run = _run([progress, rule])
    run.history.record_epoch(1.0, 10)
    assert progress.epoch_end(run) is True
    run.stopped_by = [progress]
    progress.stop(run)
    run.stopped_by = [progress, rule]
    progress.stop(run)
    assert reporter.lines == ["A callback asked to stop. Stopping."]
