"""Faults: divergence, Ctrl-C, overflow, threads, long streams and determinism.

Whatever goes wrong during training, the estimator ends up fitted, says what happened,
and predicts finite probabilities.
"""

import gc
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

import sknumpy_mlp._network as network_module
from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp._losses import SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from sknumpy_mlp._training import StochasticTrainer, StoppingRule

X, Y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3,
                           random_state=0)


def weights(est):
    return [w.copy() for w in est.coefs_ + est.intercepts_]


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


def assert_valid_proba(proba, n_classes=3):
    assert proba.shape[1] == n_classes
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def count_calls(monkeypatch, owner, name, after=None, before=None):
    """Wrap ``owner.name``: ``before(self, n)``/``after(self, n)`` run around call n."""
    real = getattr(owner, name)
    calls = {"n": 0}

    def wrapper(self, *args, **kwargs):
        calls["n"] += 1
        if before is not None:
            before(self, calls["n"])
        result = real(self, *args, **kwargs)
        if after is not None:
            after(self, calls["n"])
        return result

    monkeypatch.setattr(owner, name, wrapper)
    return calls


# ------------------------------------------------------------------------ divergence
DIVERGING = [
    pytest.param({"solver": "sgd", "learning_rate_init": 1e6, "momentum": 0.9}, 1.0,
                 np.float64, id="sgd-lr-1e6-momentum"),
    pytest.param({"solver": "adam", "learning_rate_init": 1e3}, 1.0, np.float64,
                 id="adam-lr-1e3"),
    pytest.param({"solver": "rmsprop", "learning_rate_init": 1e3}, 1.0, np.float64,
                 id="rmsprop-lr-1e3"),
    pytest.param({"solver": "sgd", "learning_rate_init": 1e6, "activation": "tanh",
                  "batch_norm": True}, 1.0, np.float64, id="sgd-lr-1e6-tanh-batchnorm"),
    pytest.param({"solver": "sgd"}, 1e6, np.float64, id="sgd-features-1e6"),
    pytest.param({"solver": "sgd"}, 1e6, np.float32, id="sgd-features-1e6-float32"),
    pytest.param({"solver": "sgd", "learning_rate_init": 1e6}, 1.0, np.float32,
                 id="sgd-lr-1e6-float32"),
]


@pytest.mark.parametrize("params, scale, dtype", DIVERGING)
def test_divergence_stops_with_a_warning_and_keeps_the_last_good_weights(params, scale,
                                                                          dtype):
    data = (X * scale).astype(dtype)
    fixed = {"hidden_layer_sizes": (10,), "max_iter": 30, "random_state": 0}
    with pytest.warns(ConvergenceWarning, match="Training diverged in epoch") as record:
        est = MLPScratchClassifier(**fixed, **params).fit(data, Y)
    assert "learning_rate_init" in str(record[0].message)  # says what to do
    assert 1 <= est.n_iter_ < 30  # stopped early, after at least one good epoch
    assert np.all(np.isfinite(est.loss_curve_))
    assert all(np.all(np.isfinite(w)) for w in weights(est))
    assert_valid_proba(est.predict_proba(data))
    assert np.all(np.isfinite(est.predict_log_proba(data)))
    # The weights kept are those of the last epoch before the divergence: the same as
    # a run that stops right there.
    stopped = MLPScratchClassifier(**{**fixed, "max_iter": est.n_iter_}, **params)
    assert_same_weights(weights(est), weights(stopped.fit(data, Y)))


def test_divergence_with_overflowing_weights_falls_back_to_the_start(monkeypatch):
    """The last epoch's final step blows the weights up: those weights are not kept."""
    data = X.astype(np.float32)
    initial = {}
    count_calls(monkeypatch, StochasticTrainer, "fit",
                before=lambda self, n: initial.setdefault("params", self.net.params.copy()))

    def blow_up(self, n):  # after the last of 3 steps of epoch 2 (120 rows, batch 40)
        if n == 6:
            self.net.params *= np.float32(1e30)

    count_calls(monkeypatch, StochasticTrainer, "step", after=blow_up)
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), batch_size=40, max_iter=20,
                               random_state=0)
    with pytest.warns(ConvergenceWarning, match="not finite"):
        est.fit(data, Y)
    assert_valid_proba(est.predict_proba(data))
    np.testing.assert_array_equal(est._network.params, initial["params"])


def test_divergence_during_partial_fit_stream():
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), solver="sgd",
                               learning_rate_init=1e6, random_state=0)
    est.partial_fit(X, Y, classes=[0, 1, 2])
    for _ in range(3):
        before = weights(est)
        with pytest.warns(ConvergenceWarning, match="diverged"):
            est.partial_fit(X, Y)
        assert_same_weights(weights(est), before)  # the call's update was undone
        assert_valid_proba(est.predict_proba(X))


def test_divergence_with_early_stopping_keeps_the_best_weights():
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), solver="sgd",
                               learning_rate_init=1e6, early_stopping=True, max_iter=30,
                               random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        est.fit(X, Y)
    assert_valid_proba(est.predict_proba(X))
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_no_false_divergence_on_a_healthy_run():
    est = MLPScratchClassifier(hidden_layer_sizes=(20,), solver="sgd",
                               learning_rate_init=0.5, momentum=0.9, max_iter=40,
                               random_state=0)
    with pytest.warns() as record:
        est.fit(X, Y)
    assert not [w for w in record if "diverged" in str(w.message)]
    assert est.score(X, Y) > 0.8


# ------------------------------------------------------------------------- Ctrl-C
def interrupt_on(n_call):
    def before(self, n):
        if n == n_call:
            raise KeyboardInterrupt
    return before


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_ctrl_c_between_epochs_keeps_a_working_model(monkeypatch, solver):
    count_calls(monkeypatch, StochasticTrainer, "run_epoch", before=interrupt_on(3))
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), solver=solver, max_iter=50,
                               random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, Y)  # returns instead of raising KeyboardInterrupt
    check_is_fitted(est)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert_valid_proba(est.predict_proba(X))
    # Without early stopping the weights are those reached at the interrupt.
    monkeypatch.undo()
    two_epochs = MLPScratchClassifier(hidden_layer_sizes=(10,), solver=solver,
                                      max_iter=2, random_state=0).fit(X, Y)
    assert_same_weights(weights(est), weights(two_epochs))


def test_ctrl_c_mid_epoch_keeps_a_working_model(monkeypatch):
    count_calls(monkeypatch, StochasticTrainer, "step", before=interrupt_on(5))
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), batch_size=20, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, Y)
    assert est.n_iter_ == 0  # interrupted inside the first epoch (6 batches)
    assert_valid_proba(est.predict_proba(X))
    assert set(est.predict(X)) <= {0, 1, 2}


def test_ctrl_c_with_early_stopping_restores_the_best_weights(monkeypatch):
    snapshots = []  # snapshots[k]: the weights at the end of epoch k

    def record(self, n):
        if n == 9:
            raise KeyboardInterrupt
        snapshots.append([w.copy() for w in self.net.coefs + self.net.intercepts])

    count_calls(monkeypatch, StochasticTrainer, "run_epoch", before=record)
    verdicts = []  # whether the stopping rule called each epoch the best so far
    real_update = StoppingRule.update
    monkeypatch.setattr(
        StoppingRule, "update",
        lambda self, h: verdicts.append(real_update(self, h)) or verdicts[-1])
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), early_stopping=True,
                               learning_rate_init=0.1, max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, Y)
    assert len(est.validation_scores_) == len(verdicts) == 8
    best_epoch = max(k + 1 for k, is_best in enumerate(verdicts) if is_best)
    assert best_epoch < 8, "the test needs a best epoch before the interrupted one"
    assert_same_weights(weights(est), snapshots[best_epoch])
    assert est.best_validation_score_ == est.validation_scores_[best_epoch - 1]
    assert_valid_proba(est.predict_proba(X))


def test_ctrl_c_during_partial_fit(monkeypatch):
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), batch_size=20, random_state=0)
    est.partial_fit(X, Y, classes=[0, 1, 2])
    count_calls(monkeypatch, StochasticTrainer, "step", before=interrupt_on(3))
    with pytest.warns(UserWarning, match="interrupted"):
        est.partial_fit(X, Y)
    assert_valid_proba(est.predict_proba(X))
    monkeypatch.undo()
    est.partial_fit(X, Y)  # the stream goes on
    assert_valid_proba(est.predict_proba(X))


def test_ctrl_c_during_lbfgs_keeps_a_working_model(monkeypatch):
    count_calls(monkeypatch, network_module.Network, "loss_and_grad",
                before=interrupt_on(6))
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0)
    with pytest.warns(UserWarning, match="interrupted"):
        est.fit(X, Y)
    check_is_fitted(est)
    assert_valid_proba(est.predict_proba(X))


# ------------------------------------------------------------------------ overflow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_features_around_1e6_train_to_finite_probabilities(solver, dtype):
    data = (X * 1e6).astype(dtype)
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), solver=solver, max_iter=20,
                               random_state=0).fit(data, Y)
    assert np.all(np.isfinite(est.loss_curve_))
    assert_valid_proba(est.predict_proba(data))
    assert np.all(np.isfinite(est.predict_log_proba(data)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_logits_far_from_zero_give_finite_probabilities(n_classes, dtype):
    y = Y % n_classes
    est = MLPScratchClassifier(hidden_layer_sizes=(10,), max_iter=5,
                               random_state=0).fit(X.astype(dtype), y)
    est.coefs_[-1] *= 1e6  # views of the network buffer: logits of order 1e6
    est.intercepts_[-1] += 1e5
    proba = est.predict_proba(X.astype(dtype))
    assert_valid_proba(proba, n_classes)
    assert proba.max() > 0.99  # saturated, not NaN
    assert np.all(np.isfinite(est.predict_log_proba(X.astype(dtype))))
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])


@pytest.mark.parametrize("dtype, big", [(np.float32, 1e30), (np.float64, 1e300)])
@pytest.mark.parametrize("head", [SoftmaxCrossEntropy(), SigmoidBinaryCrossEntropy()],
                         ids=["softmax", "sigmoid"])
def test_losses_stay_finite_for_huge_logits(head, dtype, big):
    z = np.array([[big, -big, 0.0], [-big, big, big], [0.0, 0.0, -big]], dtype=dtype)
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool)  # confidently wrong
    grad = z.copy()
    loss = head.loss_and_grad(grad, y)
    assert np.isfinite(loss) and loss > 0
    assert np.all(np.isfinite(grad)) and np.all(np.abs(grad) <= 1)
    assert np.all(np.isfinite(head.activate(z.copy())))


# ------------------------------------------------------------------------- threads
def test_concurrent_predictions_match_serial_ones():
    X_big, y_big = make_classification(n_samples=4000, n_features=20, n_classes=4,
                                       n_informative=8, random_state=1)
    est = MLPScratchClassifier(hidden_layer_sizes=(64, 32), max_iter=5,
                               random_state=0).fit(X_big[:500], y_big[:500])
    chunks = np.array_split(X_big, 16)
    serial_proba = [est.predict_proba(c) for c in chunks]
    serial_pred = [est.predict(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        proba = list(pool.map(est.predict_proba, chunks + chunks))
        pred = list(pool.map(est.predict, chunks + chunks))
    for got, want in zip(proba, serial_proba + serial_proba):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(pred, serial_pred + serial_pred):
        np.testing.assert_array_equal(got, want)


# -------------------------------------------------------------------- long streams
def test_long_partial_fit_stream_keeps_memory_flat():
    """Hundreds of partial_fit calls keep nothing per call but one loss_curve_ entry.

    Each call costs a few ms (scikit-learn's input validation) and tracing makes it
    ~4x slower, so the stream is warmed up untraced, then traced over a window. Two
    measures: everything (scikit-learn's and NumPy's caches are still filling, so the
    bound is loose: a kept batch shows) and what our own code allocates (tight: any
    array or list kept per call shows).
    """
    rng = np.random.RandomState(0)
    X_s, y_s = rng.randn(10, 5), np.arange(10) % 3
    est = MLPScratchClassifier(hidden_layer_sizes=(8,), random_state=0)
    est.partial_fit(X_s, y_s, classes=[0, 1, 2])

    def stream(n_calls):
        for _ in range(n_calls):
            est.partial_fit(X_s, y_s)
        gc.collect()
        return len(est.loss_curve_)

    stream(300)
    tracemalloc.start()
    try:
        stream(30)  # objects allocated before tracing are freed untraced: warm up
        first, calls = tracemalloc.take_snapshot(), len(est.loss_curve_)
        calls = stream(150) - calls
        second = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()

    def kept_per_call(*filters):
        filters = (tracemalloc.Filter(False, tracemalloc.__file__),
                   tracemalloc.Filter(False, __file__), *filters)
        diff = second.filter_traces(filters).compare_to(first.filter_traces(filters),
                                                        "filename")
        return sum(d.size_diff for d in diff) / calls

    everything = kept_per_call()
    ours = kept_per_call(tracemalloc.Filter(True, "*/sknumpy_mlp/*"))
    # loss_curve_ grows by one float per call (33 bytes with its list slot), as in
    # scikit-learn; one more kept float per call would make it 66. Measured in all:
    # ~80-180 bytes per call, falling as the caches fill.
    assert ours < 48, f"our code keeps {ours:.0f} bytes per call"
    assert everything < 320, f"{everything:.0f} bytes kept per call"
    assert len(est.loss_curve_) == 1 + 300 + 30 + 150
    assert_valid_proba(est.predict_proba(X_s))


# ------------------------------------------------------------------- determinism
DETERMINISM = [
    pytest.param({}, id="adam"),
    pytest.param({"solver": "sgd", "learning_rate": "invscaling"}, id="sgd"),
    pytest.param({"solver": "lbfgs"}, id="lbfgs"),
    pytest.param({"early_stopping": True}, id="early-stopping"),
    pytest.param({"solver": "adamw", "dropout": 0.2, "batch_norm": True,
                  "learning_rate": "cosine", "warmup_iter": 2}, id="dropout-batchnorm"),
]


@pytest.mark.parametrize("params", DETERMINISM)
def test_same_random_state_gives_bit_identical_models(params):
    def fit():
        return MLPScratchClassifier(hidden_layer_sizes=(10,), max_iter=15,
                                    random_state=42, **params).fit(X, Y)

    a, b = fit(), fit()
    assert b"".join(w.tobytes() for w in weights(a)) == \
        b"".join(w.tobytes() for w in weights(b))
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_grid_search_identical_across_n_jobs():
    grid = {"alpha": [1e-4, 1e-1], "dropout": [0.0, 0.2]}
    base = MLPScratchClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    results = [GridSearchCV(base, grid, cv=2, scoring="neg_log_loss",
                            n_jobs=n_jobs).fit(X, Y).cv_results_
               for n_jobs in (1, 2)]
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(results[0][key], results[1][key])
