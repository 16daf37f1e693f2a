"""What a user relies on: MLPScratchClassifier behaves as scikit-learn's MLPClassifier
(to ~1e-10 in float64), works with scikit-learn's tools, and its extras do what they
claim. Small data and few epochs throughout: the whole file runs in seconds.
"""

import contextlib
import inspect
import io
import math
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.stats
from sklearn.base import clone
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss, recall_score
from sklearn.model_selection import GridSearchCV, cross_validate, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

import sknumpy_mlp._base as estimator_module  # where the fits look these names up
from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp._schedules import learning_rate_at
from sknumpy_mlp.datasets import load_digits_split

EXTRA_PARAMS = {
    "weight_decay": 0.01, "warmup_iter": 0, "dropout": 0.0, "batch_norm": False,
    "class_weight": None, "label_smoothing": 0.0, "clip_grad_norm": None,
    "weight_init": "auto",
}
SMALL = {"hidden_layer_sizes": (15,), "random_state": 0, "max_iter": 20}


# ------------------------------------------------------------------------- data
@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """These matrices are small: on a shared 2-core machine BLAS threads only contend
    (30x slower under load). Results do not depend on it."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits():
    """300 digits in float64, pixels in [0, 1]: 10 classes."""
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


@pytest.fixture(scope="module")
def digits_split():
    """The full digits, float32, 1347 train / 450 test."""
    return load_digits_split()


@pytest.fixture(scope="module")
def binary():
    return make_classification(200, 10, random_state=0)


@pytest.fixture(scope="module")
def multilabel():
    return make_multilabel_classification(200, 10, n_classes=3, random_state=0)


def public_attributes(est):
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


def assert_same_fit(ours, theirs, X):
    """Same probabilities (1e-10), loss history, iteration counts and scores."""
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X),
                               rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-10)
    if hasattr(theirs, "loss_curve_"):  # scikit-learn has none for lbfgs
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    for name in ("best_loss_", "best_validation_score_"):
        mine, ref = getattr(ours, name, None), getattr(theirs, name, None)
        assert (mine is None) == (ref is None), name
        if ref is not None:
            np.testing.assert_allclose(mine, ref, rtol=1e-10)
    if getattr(theirs, "validation_scores_", None) is not None:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_,
                                   rtol=1e-12)
    for mine, ref in zip(ours.coefs_ + ours.intercepts_,
                         theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-10)


def fit_both(X, y, sample_weight=None, **params):
    kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
    ours = MLPScratchClassifier(**params).fit(X, y, **kwargs)
    theirs = MLPClassifier(**params).fit(X, y, **kwargs)
    return ours, theirs


# --------------------------------------------------------- parity with sklearn
@pytest.mark.parametrize("params", [
    {},
    {"solver": "sgd"},
    {"solver": "sgd", "nesterovs_momentum": False},
    {"solver": "sgd", "momentum": 0.0},
    {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.1},
    {"solver": "sgd", "learning_rate": "adaptive", "tol": 0.5, "n_iter_no_change": 2},
    {"solver": "lbfgs"},
    {"activation": "tanh"},
    {"activation": "logistic"},
    {"activation": "identity"},
    {"alpha": 0.5},
    {"batch_size": 32, "shuffle": False},
    {"hidden_layer_sizes": (12, 7), "activation": "tanh", "solver": "sgd"},
    {"solver": "lbfgs", "activation": "logistic", "alpha": 0.01},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()) or "defaults")
def test_multiclass_parity(digits, params):
    X, y = digits
    ours, theirs = fit_both(X, y, **{**SMALL, **params})
    assert_same_fit(ours, theirs, X)


def test_parity_when_the_stopping_rule_fires(binary):
    X, y = binary
    ours, theirs = fit_both(X, y, hidden_layer_sizes=(5,), random_state=0,
                            max_iter=300, tol=1e-2)
    assert ours.n_iter_ < 300  # stopped by tol, not by max_iter
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sample_weight_parity(digits, solver):
    X, y = digits
    weights = np.random.RandomState(0).uniform(0, 2, len(y))
    ours, theirs = fit_both(X, y, sample_weight=weights, **{**SMALL, "solver": solver})
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_binary_parity(binary, solver):
    X, y = binary
    ours, theirs = fit_both(X, y, **{**SMALL, "solver": solver})
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multilabel_parity(multilabel, solver):
    X, Y = multilabel
    ours, theirs = fit_both(X, Y, **{**SMALL, "solver": solver})
    assert ours.predict(X).shape == Y.shape
    assert_same_fit(ours, theirs, X)


def test_early_stopping_weights_equal_repetitions(binary):
    """Documented difference from scikit-learn: the hold-out is measured in sample weight
    and keeps duplicate rows together, so weight w trains exactly like w copies."""
    X, y = binary
    X, y = X[:80], y[:80]
    w = np.random.RandomState(0).randint(0, 4, size=len(y))
    kw = dict(hidden_layer_sizes=(10,), random_state=0, max_iter=30, early_stopping=True)
    weighted = MLPScratchClassifier(**kw).fit(X, y, sample_weight=w)
    repeated = MLPScratchClassifier(**kw).fit(X.repeat(w, axis=0), y.repeat(w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               rtol=1e-7, atol=1e-9)
    assert weighted.n_iter_ == repeated.n_iter_
    np.testing.assert_allclose(weighted.validation_scores_, repeated.validation_scores_)


def test_early_stopping_keeps_duplicates_on_one_side(monkeypatch, binary):
    X, y = binary
    X, y = np.vstack([X, X[:30]]), np.concatenate([y, y[:30]])  # 30 duplicated rows
    held_out = spy_on_holdout(monkeypatch)
    MLPScratchClassifier((5,), early_stopping=True, validation_fraction=0.3, max_iter=2,
                         random_state=0).fit(X, y)
    X_val = held_out[0][0]
    val_rows = {row.tobytes() for row in X_val}
    in_val = np.array([row.tobytes() in val_rows for row in X])
    assert 0 < in_val[:30].sum() < 30
    np.testing.assert_array_equal(in_val[:30], in_val[-30:])  # copies on the same side


def test_early_stopping_goes_on_while_validation_loss_falls():
    """Accuracy saturates early on an easy problem; scikit-learn would stop
    n_iter_no_change + 1 epochs later. Here the validation loss breaks the ties."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] += np.where(y == 1, 3.0, -3.0)  # a wide margin: accuracy 1.0 comes fast
    clf = MLPScratchClassifier((10,), early_stopping=True, n_iter_no_change=3,
                               max_iter=80, random_state=0).fit(X, y)
    first_perfect = clf.validation_scores_.index(1.0) + 1
    assert clf.n_iter_ > first_perfect + 3 + 1
    losses = clf.validation_loss_curve_
    assert losses[-1] < losses[first_perfect - 1]


def test_warm_start_parity(digits):
    X, y = digits
    ours = MLPScratchClassifier(**{**SMALL, "max_iter": 5}, warm_start=True)
    theirs = MLPClassifier(**{**SMALL, "max_iter": 5}, warm_start=True)
    for _ in range(3):
        ours.fit(X, y)
        theirs.fit(X, y)
        assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_parity(digits, solver):
    X, y = digits
    ours = MLPScratchClassifier((15,), solver=solver, random_state=0)
    theirs = MLPClassifier((15,), solver=solver, random_state=0)
    classes = np.unique(y)
    for chunk in np.array_split(np.arange(len(y)), 4):
        ours.partial_fit(X[chunk], y[chunk], classes=classes)
        theirs.partial_fit(X[chunk], y[chunk], classes=classes)
        assert_same_fit(ours, theirs, X)


def test_multiclass_early_stopping_holds_out_a_stratified_split(monkeypatch):
    """We stratify multiclass hold-outs too (scikit-learn does for binary only)."""
    X, y = load_digits(return_X_y=True)
    keep = np.concatenate([np.flatnonzero(y == 0)[:150], np.flatnonzero(y == 1)[:60],
                           np.flatnonzero(y == 2)[:20]])  # imbalanced: 150 / 60 / 20
    X, y = X[keep] / 16.0, y[keep]
    held_out = spy_on_holdout(monkeypatch)
    clf = MLPScratchClassifier((10,), early_stopping=True, validation_fraction=0.2,
                               max_iter=3, random_state=0).fit(X, y)
    Y_val = held_out[0][1]
    counts = Y_val.sum(axis=0)  # one-hot columns in the order of classes_
    np.testing.assert_allclose(counts, [30, 12, 4], atol=1)
    assert len(clf.validation_scores_) == clf.n_iter_


def spy_on_holdout(monkeypatch):
    """Record the hold-out ``(X_val, Y_val, sw_val)`` of each early-stopping fit."""
    held_out = []
    original = MLPScratchClassifier._split_validation

    def spy(self, *args, **kwargs):
        parts = original(self, *args, **kwargs)
        held_out.append(parts[-1])
        return parts

    monkeypatch.setattr(MLPScratchClassifier, "_split_validation", spy)
    return held_out


# ------------------------------------------------------ same API as sklearn
@pytest.mark.parametrize("params, extra", [
    ({}, {"validation_loss_curve_"}),
    ({"early_stopping": True}, {"validation_loss_curve_"}),
    ({"solver": "lbfgs"}, {"loss_curve_"}),  # documented: we record it for lbfgs too
])
def test_same_public_attributes_as_mlpclassifier(digits, params, extra):
    X, y = digits
    ours, theirs = fit_both(X, y, **{**SMALL, **params})
    assert public_attributes(ours) == public_attributes(theirs) | extra


def test_parameters_and_defaults_match_sklearn():
    ours = MLPScratchClassifier().get_params()
    theirs = MLPClassifier().get_params()
    assert len(theirs) == 23
    assert set(ours) == set(theirs) | set(EXTRA_PARAMS)
    for name, default in theirs.items():
        assert ours[name] == default, name
    for name, default in EXTRA_PARAMS.items():
        assert ours[name] == default, name
    kinds = [p.kind for p in
             inspect.signature(MLPScratchClassifier).parameters.values()]
    assert kinds[:2] == [inspect.Parameter.POSITIONAL_OR_KEYWORD] * 2
    assert set(kinds[2:]) == {inspect.Parameter.KEYWORD_ONLY}
    sklearn_kinds = [p.kind for p in
                     inspect.signature(MLPClassifier).parameters.values()]
    assert kinds[:23] == sklearn_kinds


# ------------------------------------------------------ sklearn's tools
def test_pipeline_with_standard_scaler(digits_split):
    X_train, y_train, X_test, y_test = (a.astype(np.float64) if a.dtype.kind == "f"
                                        else a for a in digits_split)
    params = {"hidden_layer_sizes": (32,), "max_iter": 30, "random_state": 0}
    ours = make_pipeline(StandardScaler(), MLPScratchClassifier(**params))
    theirs = make_pipeline(StandardScaler(), MLPClassifier(**params))
    ours.fit(X_train, y_train)
    theirs.fit(X_train, y_train)
    np.testing.assert_allclose(ours.predict_proba(X_test), theirs.predict_proba(X_test),
                               atol=1e-10)
    assert ours.score(X_test, y_test) > 0.9


def test_grid_search_in_two_processes(digits):
    X, y = digits
    grid = {"alpha": [1e-4, 1.0], "hidden_layer_sizes": [(5,), (15,)]}
    ours = GridSearchCV(MLPScratchClassifier(max_iter=15, random_state=0), grid, cv=3,
                        n_jobs=2).fit(X, y)
    theirs = GridSearchCV(MLPClassifier(max_iter=15, random_state=0), grid,
                          cv=3).fit(X, y)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"])
    assert ours.best_params_ == theirs.best_params_
    assert isinstance(ours.best_estimator_, MLPScratchClassifier)
    check_is_fitted(ours.best_estimator_)


def test_cross_validate_matches_sklearn(digits):
    X, y = digits
    ours = cross_validate(MLPScratchClassifier(**SMALL), X, y, cv=3,
                          scoring=["accuracy", "neg_log_loss"], return_estimator=True)
    theirs = cross_validate(MLPClassifier(**SMALL), X, y, cv=3,
                            scoring=["accuracy", "neg_log_loss"])
    for key in ("test_accuracy", "test_neg_log_loss"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-10)
    assert all(isinstance(e, MLPScratchClassifier) for e in ours["estimator"])


def test_clone_copies_parameters_not_fit(digits):
    X, y = digits
    fitted = MLPScratchClassifier(**SMALL, dropout=0.1, batch_norm=True).fit(X, y)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(X)
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X),
                                  fitted.predict_proba(X))


@pytest.mark.parametrize("params", [{}, {"dropout": 0.2, "batch_norm": True}])
def test_joblib_round_trip(digits, tmp_path, params):
    X, y = digits
    clf = MLPScratchClassifier(**SMALL, **params).fit(X, y)
    joblib.dump(clf, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.get_params() == clf.get_params()
    assert loaded.loss_curve_ == clf.loss_curve_


# ------------------------------------------------------ fitting behaviour
def test_partial_fit_streams(digits):
    X, y = digits
    clf = MLPScratchClassifier((32,), learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[:50], y[:50])  # the first call must list the classes
    chunks = np.array_split(np.arange(len(y)), 6)
    pass_losses = []
    for _ in range(5):
        losses = []
        for chunk in chunks:
            clf.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
            losses.append(clf.loss_)
        pass_losses.append(np.mean(losses))
    assert np.all(np.diff(pass_losses) < 0), pass_losses
    assert pass_losses[-1] < pass_losses[0] / 2
    assert clf.n_iter_ == 1  # one epoch per call, as in scikit-learn
    low = y < 5  # a later chunk need not hold every class
    clf.partial_fit(X[low], y[low])
    assert list(clf.classes_) == list(range(10))
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(X[:5], np.full(5, 11))


def test_warm_start_continues_from_previous_weights(digits):
    X, y = digits
    params = {**SMALL, "max_iter": 10, "learning_rate_init": 0.01}
    clf = MLPScratchClassifier(**params, warm_start=True).fit(X, y)
    first = list(clf.loss_curve_)
    before = [c.copy() for c in clf.coefs_]
    clf.fit(X, y)
    second = clf.loss_curve_[len(first):]
    assert len(second) == 10
    # Picks up where it stopped: far below the initial loss, near the last one.
    assert second[0] < first[-1] < first[0] / 1.5
    assert any(not np.array_equal(b, c) for b, c in zip(before, clf.coefs_))
    cold = MLPScratchClassifier(**params).fit(X, y)
    cold.fit(X, y)  # warm_start=False: starts over, the same first run again
    np.testing.assert_allclose(cold.loss_curve_, first)


def test_early_stopping_restores_the_best_weights(monkeypatch, digits_split):
    X, y, _, _ = digits_split
    held_out = spy_on_holdout(monkeypatch)
    clf = MLPScratchClassifier((8,), early_stopping=True, n_iter_no_change=3,
                               learning_rate_init=0.05, max_iter=100,
                               random_state=0).fit(X, y)
    X_val, Y_val, _ = held_out[-1]
    scores = clf.validation_scores_
    assert len(scores) == len(clf.loss_curve_) == clf.n_iter_ < 100
    assert clf.best_validation_score_ == max(scores)
    assert clf.best_loss_ is None
    assert scores[-1] < max(scores)  # the last epoch was not the best ...
    y_val = clf.classes_[Y_val.argmax(axis=1)]
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)  # ...
    # ... and the validation log-loss of the kept weights is that of a best epoch.
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    kept = log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_)
    best_losses = np.asarray(clf.validation_loss_curve_)[np.equal(scores, max(scores))]
    np.testing.assert_allclose(np.min(np.abs(best_losses - kept)), 0, atol=1e-5)
    assert MLPScratchClassifier(**SMALL).fit(X, y).validation_loss_curve_ is None


def test_multilabel(multilabel):
    X, Y = multilabel
    clf = MLPScratchClassifier((20,), max_iter=200, random_state=0).fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and clf.out_activation_ == "logistic"
    assert np.all((proba > 0) & (proba < 1))
    assert not np.allclose(proba.sum(axis=1), 1)  # independent labels, not softmax
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    assert clf.score(X, Y) > 0.5  # exact-match accuracy


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_input_same_as_dense(digits, fmt, solver):
    X, y = digits
    dense = MLPScratchClassifier(**SMALL, solver=solver).fit(X, y)
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    sparse = MLPScratchClassifier(**SMALL, solver=solver).fit(X_sparse, y)
    np.testing.assert_allclose(sparse.predict_proba(X_sparse),
                               dense.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(digits, dtype):
    X, y = digits
    clf = MLPScratchClassifier(**SMALL).fit(X.astype(dtype), y)
    assert all(c.dtype == dtype for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X.astype(dtype)).dtype == dtype


def test_float32_trains_like_float64(digits):
    X, y = digits
    p32 = MLPScratchClassifier(**SMALL).fit(X.astype(np.float32), y).predict_proba(X)
    p64 = MLPScratchClassifier(**SMALL).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(p32, p64, atol=1e-3)


def test_string_labels(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"], dtype=object)
    ours, theirs = fit_both(X, names[y], **SMALL)
    assert list(ours.classes_) == sorted(names)
    assert set(ours.predict(X)) <= set(names)
    assert_same_fit(ours, theirs, X)


def test_pandas_dataframe_sets_feature_names(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
    clf = MLPScratchClassifier(**SMALL).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    plain = MLPScratchClassifier(**SMALL).fit(X, y)  # same fit, without names
    np.testing.assert_array_equal(clf.predict_proba(frame), plain.predict_proba(X))
    assert not hasattr(plain, "feature_names_in_")
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[frame.columns[::-1]])


@pytest.mark.parametrize("params", [
    {"max_iter": 5},
    {"hidden_layer_sizes": (5,), "max_iter": 300, "tol": 1e-2},
    {"solver": "sgd", "learning_rate": "adaptive", "tol": 0.5, "n_iter_no_change": 2},
])
def test_verbose_prints_sklearns_lines(binary, params):
    X, y = binary

    def output(cls):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            cls(**{"hidden_layer_sizes": (10,), "random_state": 0, "verbose": True,
                   **params}).fit(X, y)
        return buffer.getvalue()

    ours = output(MLPScratchClassifier)
    assert ours.startswith("Iteration 1, loss = ")
    assert ours == output(MLPClassifier)


def test_verbose_early_stopping_lines(digits_split):
    X, y, _, _ = digits_split
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        clf = MLPScratchClassifier((8,), early_stopping=True, n_iter_no_change=3,
                                   learning_rate_init=0.05, max_iter=100,
                                   random_state=0, verbose=True).fit(X, y)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 2 * clf.n_iter_ + 1
    for i, (loss, score) in enumerate(zip(clf.loss_curve_, clf.validation_scores_)):
        assert lines[2 * i] == f"Iteration {i + 1}, loss = {loss:.8f}"
        assert lines[2 * i + 1] == f"Validation score: {score:f}"
    assert lines[-1] == ("Validation score did not improve more than tol=0.000100 for "
                         "3 consecutive epochs. Stopping.")


def test_convergence_warning_when_max_iter_reached(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPScratchClassifier((10,), max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPScratchClassifier((10,), solver="lbfgs", max_iter=3,
                             random_state=0).fit(X, y)


def test_digits_accuracy_within_one_point_of_sklearn(digits_split):
    X_train, y_train, X_test, y_test = digits_split
    params = {"hidden_layer_sizes": (100,), "max_iter": 60, "random_state": 0}
    ours = MLPScratchClassifier(**params).fit(X_train, y_train)  # float32
    theirs = MLPClassifier(**params).fit(X_train.astype(np.float64), y_train)
    ours_score, theirs_score = ours.score(X_test, y_test), theirs.score(X_test, y_test)
    assert theirs_score > 0.95
    assert abs(ours_score - theirs_score) <= 0.01


def test_coefs_are_views_of_one_flat_buffer(digits):
    X, y = digits
    clf = MLPScratchClassifier(hidden_layer_sizes=(12, 7), max_iter=5,
                               random_state=0).fit(X, y)

    def check(est):
        params = est._network.params
        assert params.ndim == 1
        assert sum(a.size for a in est.coefs_ + est.intercepts_) <= params.size
        for array in est.coefs_ + est.intercepts_:
            assert np.shares_memory(array, params)

    check(clf)
    loaded = pickle.loads(pickle.dumps(clf))
    check(loaded)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.coefs_[-1][...] = 0.0  # writing through the view changes the model
    loaded.intercepts_[-1][...] = 0.0
    np.testing.assert_allclose(loaded.predict_proba(X[:3]), 0.1)
    assert not np.allclose(clf.predict_proba(X[:3]), 0.1)  # the original is untouched


# ------------------------------------------------------------------- the extras
def relu_forward(clf, X):
    a = X
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        a = np.maximum(a @ W + b, 0)
    z = a @ clf.coefs_[-1] + clf.intercepts_[-1]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def test_dropout_is_off_at_predict_time(digits):
    X, y = digits
    clf = MLPScratchClassifier((30, 20), dropout=0.5, max_iter=20,
                               random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))  # deterministic
    np.testing.assert_allclose(proba, relu_forward(clf, X), atol=1e-12)
    # ... while training did drop units: not the same fit as without dropout.
    plain = MLPScratchClassifier((30, 20), max_iter=20, random_state=0).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), proba, atol=1e-3)


def test_batch_norm_uses_running_statistics_at_predict_time(digits):
    X, y = digits
    clf = MLPScratchClassifier((20,), batch_norm=True, max_iter=20,
                               random_state=0).fit(X, y)
    together = clf.predict_proba(X[:40])
    alone = np.vstack([clf.predict_proba(X[i:i + 1]) for i in range(40)])
    np.testing.assert_allclose(alone, together, rtol=0, atol=1e-12)
    # The normalisation uses the running statistics learned in training.
    bn = clf._network.norms[0]
    assert not np.allclose(bn.running_mean, 0) and not np.allclose(bn.running_var, 1)
    z = X[:40] @ clf.coefs_[0] + clf.intercepts_[0]
    z = (z - bn.running_mean) / np.sqrt(bn.running_var + bn.epsilon)
    z = z * bn.gamma + bn.beta
    z = np.maximum(z, 0) @ clf.coefs_[1] + clf.intercepts_[1]
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(together, expected / expected.sum(axis=1, keepdims=True),
                               atol=1e-12)


def test_class_weight_balanced_raises_minority_recall():
    X, y = make_classification(800, 10, weights=[0.9, 0.1], flip_y=0, class_sep=0.5,
                               random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y,
                                                        random_state=0)
    recall = {}
    for class_weight in (None, "balanced"):
        clf = MLPScratchClassifier((20,), max_iter=100, random_state=0,
                                   class_weight=class_weight).fit(X_train, y_train)
        recall[class_weight] = recall_score(y_test, clf.predict(X_test))
    assert recall["balanced"] > recall[None] + 0.2, recall
    # A dict weight is the same as repeating the samples' weights by hand.
    by_dict = MLPScratchClassifier(**SMALL, class_weight={0: 1.0, 1: 3.0}).fit(X, y)
    by_weights = MLPScratchClassifier(**SMALL).fit(X, y, sample_weight=np.where(y, 3.0,
                                                                                1.0))
    np.testing.assert_allclose(by_dict.predict_proba(X), by_weights.predict_proba(X),
                               atol=1e-12)


def test_clip_grad_norm_tames_a_huge_learning_rate():
    X, y = load_digits(return_X_y=True)  # unscaled pixels 0..16: large gradients
    X, y = X[:500], y[:500]
    params = {"hidden_layer_sizes": (50,), "activation": "identity", "solver": "sgd",
              "learning_rate_init": 1.0, "max_iter": 10, "random_state": 0}
    with pytest.warns(ConvergenceWarning, match="diverged"):
        MLPScratchClassifier(**params).fit(X, y)
    clipped = MLPScratchClassifier(**params, clip_grad_norm=1.0).fit(X, y)
    assert clipped.n_iter_ == 10 and np.all(np.isfinite(clipped.loss_curve_))
    assert np.all(np.isfinite(clipped._network.params))
    assert clipped.score(X, y) > 0.8


def record_learning_rates(monkeypatch):
    """Record the learning rate passed to every optimizer step."""
    rates = []
    make = estimator_module.make_optimizer

    def recording_make_optimizer(*args, **kwargs):
        optimizer = make(*args, **kwargs)
        step = optimizer.step

        def recording_step(params, grads, lr):
            rates.append(float(lr))
            return step(params, grads, lr)

        optimizer.step = recording_step
        return optimizer

    monkeypatch.setattr(estimator_module, "make_optimizer", recording_make_optimizer)
    return rates


@pytest.mark.parametrize("schedule", ["cosine", "exponential", "constant"])
def test_warmup_and_schedules_follow_their_formulas(monkeypatch, digits, schedule):
    X, y = digits  # 300 samples, batches of 50: 6 steps per epoch
    lr0, total, warmup, n_batches = 0.01, 8, 3, 6
    rates = record_learning_rates(monkeypatch)
    MLPScratchClassifier((10,), learning_rate=schedule, learning_rate_init=lr0,
                         warmup_iter=warmup, max_iter=total, batch_size=50,
                         random_state=0).fit(X, y)
    assert len(rates) == total * n_batches
    progress = np.arange(total * n_batches) / n_batches  # epochs done before each step
    ramp = np.minimum(1.0, (progress + 1) / (warmup + 1))
    decay = {"cosine": 0.5 * (1 + np.cos(np.pi * progress / total)),
             "exponential": 0.01 ** (progress / total),
             "constant": np.ones_like(progress)}[schedule]
    np.testing.assert_allclose(rates, lr0 * ramp * decay, rtol=1e-12)
    np.testing.assert_allclose(
        rates, [learning_rate_at(schedule, lr0, p, total, warmup) for p in progress])
    assert rates[0] == pytest.approx(lr0 / (warmup + 1))
    if schedule == "cosine":
        assert rates[-1] < 0.01 * lr0  # decays to 0 over max_iter


def test_cosine_reaches_half_rate_halfway(monkeypatch, digits):
    X, y = digits
    rates = record_learning_rates(monkeypatch)
    MLPScratchClassifier((10,), learning_rate="cosine", learning_rate_init=0.1,
                         max_iter=4, batch_size=150, random_state=0).fit(X, y)
    assert rates[0] == 0.1  # no warm-up: the full rate first
    assert rates[4] == pytest.approx(0.05)  # progress 2 of 4 epochs
    assert math.isclose(rates[-1], 0.1 * 0.5 * (1 + math.cos(math.pi * 3.5 / 4)))


def test_label_smoothing_makes_predictions_less_confident(digits_split):
    X, y, _, _ = digits_split
    confidence = {}
    for eps in (0.0, 0.2):
        clf = MLPScratchClassifier((32,), max_iter=60, random_state=0,
                                   label_smoothing=eps).fit(X, y)
        confidence[eps] = clf.predict_proba(X).max(axis=1)
    assert confidence[0.2].mean() < confidence[0.0].mean() - 0.1
    # The smoothed target puts 1 - eps + eps / K = 0.82 on the true class: a model
    # trained towards it does not approach certainty.
    assert confidence[0.2].max() < 0.98 < confidence[0.0].max()


def initial_weights(weight_init, activation="relu", n_features=400, n_hidden=300):
    """Weights after a step of size 1e-12: the initial draw, to ~1e-11."""
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, n_features)), np.arange(20) % 2
    clf = MLPScratchClassifier((n_hidden,), activation=activation, solver="sgd",
                               momentum=0.0, learning_rate_init=1e-12, max_iter=1,
                               random_state=0, weight_init=weight_init).fit(X, y)
    return clf.coefs_[0].ravel(), clf.intercepts_[0]


@pytest.mark.parametrize("weight_init, dist, args", [
    ("he_normal", "norm", (0.0, math.sqrt(2 / 400))),
    ("he_uniform", "uniform", (-math.sqrt(6 / 400), 2 * math.sqrt(6 / 400))),
    ("glorot_uniform", "uniform", (-math.sqrt(6 / 700), 2 * math.sqrt(6 / 700))),
])
def test_weight_init_distributions(weight_init, dist, args):
    weights, biases = initial_weights(weight_init)
    assert scipy.stats.kstest(weights, dist, args=args).pvalue > 0.01
    np.testing.assert_allclose(biases, 0.0, atol=1e-9)  # zero biases


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("logistic", 2.0)])
def test_weight_init_auto_is_sklearns(activation, factor):
    weights, biases = initial_weights("auto", activation)
    bound = math.sqrt(factor / 700)
    uniform = scipy.stats.kstest(weights, "uniform", args=(-bound, 2 * bound))
    assert uniform.pvalue > 0.01
    assert np.abs(biases).max() <= bound and np.abs(biases).max() > 0.9 * bound
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, 400)), np.arange(20) % 2
    theirs = MLPClassifier((300,), activation=activation, solver="sgd", momentum=0.0,
                           learning_rate_init=1e-12, max_iter=1, random_state=0)
    theirs.fit(X, y)
    np.testing.assert_allclose(weights, theirs.coefs_[0].ravel(), atol=1e-10)


@pytest.mark.parametrize("solver", ["adamw", "rmsprop"])
def test_new_solvers_train_well_on_digits(digits_split, solver):
    X_train, y_train, X_test, y_test = digits_split
    clf = MLPScratchClassifier((64,), solver=solver, max_iter=40,
                               random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.94
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 5


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "selu", "gelu", "silu",
                                        "mish"])
def test_new_activations_train_well_on_digits(digits_split, activation):
    X_train, y_train, X_test, y_test = digits_split
    clf = MLPScratchClassifier((64,), activation=activation, max_iter=40,
                               random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.93


# ------------------------------------------------- drop-in where sklearn's tests look
@pytest.mark.parametrize("params", [{}, {"solver": "sgd"}, {"solver": "lbfgs"},
                                    {"early_stopping": True}])
def test_single_class_is_fitted_and_predicted_as_sklearn(digits, params):
    X, _ = digits
    y = np.array(["cat"] * len(X), dtype=object)
    ours, theirs = fit_both(X, y, **SMALL, **params)
    assert ours.classes_.tolist() == ["cat"] and ours.out_activation_ == "logistic"
    assert ours.predict(X[:5]).tolist() == ["cat"] * 5
    assert ours.predict_proba(X[:5]).shape == theirs.predict_proba(X[:5]).shape == (5, 2)
    assert ours.score(X, y) == 1.0
    if not params:  # the same training, step for step
        assert_same_fit(ours, theirs, X)


def test_partial_fit_with_early_stopping_raises_as_sklearn(digits):
    X, y = digits
    clf = MLPScratchClassifier(**SMALL, early_stopping=True).fit(X, y)
    assert hasattr(clf, "partial_fit")
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="^partial_fit does not support "
                                         "early_stopping=True.*early_stopping=False"):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert not hasattr(MLPScratchClassifier(solver="lbfgs"), "partial_fit")


def test_early_stopping_with_a_one_sample_class_says_what_sklearn_says(digits):
    X, y = digits
    one = np.arange(len(y)) == 7
    binary = np.where(one, "rare", "common")
    with pytest.raises(ValueError, match=r"The least populated classes in y have only 1 "
                                         r"member.*are: \['True'\].*the classes "
                                         r"\['rare'\].*early_stopping=False"):
        MLPScratchClassifier(**SMALL, early_stopping=True).fit(X, binary)
    MLPScratchClassifier(**SMALL).fit(X, binary)  # without the hold-out, nothing to refuse
    # scikit-learn does not stratify multiclass targets, nor refuse them: neither do we.
    clf = MLPScratchClassifier(**SMALL, early_stopping=True).fit(X, np.where(one, 99, y))
    assert 99 in clf.classes_


@pytest.mark.parametrize("params", [
    {"solver": "sgd"},
    {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.1},
    {"solver": "sgd", "learning_rate": "adaptive", "tol": 0.5, "n_iter_no_change": 2},
    {"solver": "adam"},
])
def test_optimizer_learning_rate_is_sklearns(digits, params):
    with warnings_ignored(ConvergenceWarning):
        ours, theirs = fit_both(*digits, **SMALL, **params)
    assert ours._optimizer.learning_rate == theirs._optimizer.learning_rate or (
        params["solver"] == "adam")  # sklearn's adam folds its bias correction in
    if params["solver"] == "adam":
        assert ours._optimizer.learning_rate == ours.learning_rate_init


def test_optimizer_learning_rate_follows_our_schedules(digits):
    clf = MLPScratchClassifier(**dict(SMALL, max_iter=6), learning_rate="cosine",
                               learning_rate_init=0.01, warmup_iter=2, tol=0)
    with warnings_ignored(ConvergenceWarning):
        clf.fit(*digits)
    expected = learning_rate_at("cosine", 0.01, progress=6, total=6, warmup_iter=2)
    assert clf._optimizer.learning_rate == expected == 0.0


@contextlib.contextmanager
def warnings_ignored(category):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield


# ------------------------------------------------------------ batch norm, tiny batches
@pytest.mark.parametrize("call", [
    lambda e, X, y: e.set_params(batch_size=1).fit(X, y),
    lambda e, X, y: e.fit(X[:1], y[:1]),
    lambda e, X, y: e.partial_fit(X[:1], y[:1], classes=np.arange(10)),
    lambda e, X, y: e.set_params(solver="lbfgs").fit(X[:1], y[:1]),
], ids=["batch_size=1", "one-sample", "partial_fit-one-sample", "lbfgs-one-sample"])
def test_batch_norm_refuses_batches_of_one_sample(digits, call):
    X, y = digits
    with pytest.raises(ValueError, match=r"batch_norm=True needs minibatches of at least "
                                         r"2 samples.*batch_size >= 2.*batch_norm=False"):
        call(MLPScratchClassifier(**SMALL, batch_norm=True), X, y)
    call(MLPScratchClassifier(**SMALL), X, y)  # without batch norm it is allowed


def test_batch_norm_trains_with_a_trailing_single_sample(digits_split):
    """n = k * batch_size + 1: the last sample joins the last full batch."""
    X, y, _, _ = digits_split
    X, y = X[:32 * 20 + 1], y[:32 * 20 + 1]
    params = dict(SMALL, batch_norm=True, batch_size=32, max_iter=15)
    with warnings_ignored(ConvergenceWarning):
        odd = MLPScratchClassifier(**params).fit(X, y)
        even = MLPScratchClassifier(**params).fit(X[:-1], y[:-1])
    assert odd.t_ == 15 * len(X)
    bn = odd._network.norms[0]
    assert np.all(np.isfinite(bn.running_mean)) and np.all(np.isfinite(bn.running_var))
    # The running variance tracks the pre-activations' variance over the training data.
    # A batch of one, the last update of every epoch, would scale it by 1 - momentum
    # (ratios 0.86 to 0.93 here, against 0.97 to 1.04).
    z = X @ odd.coefs_[0] + odd.intercepts_[0]
    ratio = bn.running_var / z.var(axis=0)
    assert np.all((ratio > 0.94) & (ratio < 1.06)), ratio
    assert odd.score(X, y) > 0.9 and abs(odd.score(X, y) - even.score(X, y)) < 0.03
