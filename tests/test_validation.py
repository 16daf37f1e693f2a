"""Bad input gets a clear error before any work is done.

One table: each row is ``(id, estimator params, bad call, exception type, message regex)``.
The bad call gets an unfitted estimator built from the params; calls that need a fitted
model fit it first with :func:`fitted`. Every row also checks that

* no training started during the bad call (the error came before any work), and
* the estimator is left as it was: still predicting if it was fitted, else not fitted.

Add a row for every new way to get the input wrong.
"""

import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

import sknumpy_mlp._base as estimator_module  # where the fits look these names up
from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp._training import StochasticTrainer

RNG = np.random.RandomState(0)
X = RNG.randn(30, 4)
Y = np.arange(30) % 3  # classes 0, 1, 2
FAST = {"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 0}

TRAINING_RUNS = {"total": 0, "setup": 0}
PROBA_AFTER_SETUP = {}  # id(estimator) -> predict_proba(X) once the setup fit is done


def fitted(est, X_fit=X, y_fit=Y):
    """Fit ``est`` on good data (the setup of a row, not the bad call)."""
    before = TRAINING_RUNS["total"]
    est.fit(X_fit, y_fit)
    TRAINING_RUNS["setup"] += TRAINING_RUNS["total"] - before
    PROBA_AFTER_SETUP[id(est)] = est.predict_proba(X)
    return est


def partially_fitted(est, classes=(0, 1, 2)):
    before = TRAINING_RUNS["total"]
    est.partial_fit(X, Y, classes=list(classes))
    TRAINING_RUNS["setup"] += TRAINING_RUNS["total"] - before
    PROBA_AFTER_SETUP[id(est)] = est.predict_proba(X)
    return est


def with_nan(A):
    A = A.astype(float)
    A.flat[7] = np.nan
    return A


def with_inf(A):
    A = A.astype(float)
    A.flat[-3] = np.inf
    return A


INVALID = r"parameter of MLPScratchClassifier must be"

# (id, params, bad call, exception type, regex the message must match)
TABLE = [
    # ------------------------------------------------------------ X and y in fit
    ("nan-in-X", {}, lambda e: e.fit(with_nan(X), Y), ValueError,
     r"Input X contains NaN.*impute"),
    ("nan-in-sparse-X", {}, lambda e: e.fit(sparse.csr_matrix(with_nan(X)), Y), ValueError,
     r"Input X contains NaN"),
    ("inf-in-X", {}, lambda e: e.fit(with_inf(X), Y), ValueError,
     r"Input X contains infinity.*Replace or clip the infinite values"),
    ("nan-in-y", {}, lambda e: e.fit(X, with_nan(Y)), ValueError,
     r"Input y contains NaN.*Drop the samples whose label is missing"),
    ("inf-in-y", {}, lambda e: e.fit(X, with_inf(Y)), ValueError,
     r"Input y contains infinity.*Drop the samples"),
    ("y-shorter-than-X", {}, lambda e: e.fit(X, Y[:-1]), ValueError,
     r"inconsistent numbers of samples: \[30, 29\].*one row per sample"),
    ("empty-X", {}, lambda e: e.fit(np.empty((0, 4)), np.empty(0)), ValueError,
     r"Found array with 0 sample\(s\)"),
    ("no-features", {}, lambda e: e.fit(np.empty((30, 0)), Y), ValueError,
     r"Found array with 0 feature\(s\)"),
    ("X-3d", {}, lambda e: e.fit(X.reshape(30, 2, 2), Y), ValueError,
     r"dim 3.*Flatten X to 2-D"),
    ("X-1d", {}, lambda e: e.fit(X[:, 0], Y), ValueError,
     r"Expected 2D array, got 1D array.*Reshape your data"),
    ("X-strings", {}, lambda e: e.fit(np.full((30, 4), "a"), Y), ValueError,
     r"string.*OneHotEncoder"),
    ("X-dataframe-text-column", {},
     lambda e: e.fit(pytest.importorskip("pandas").DataFrame(
         {"n": np.arange(30.0), "city": ["Paris"] * 30}), Y), ValueError,
     r"could not convert string to float: 'Paris'.*OneHotEncoder"),
    ("X-object-dict", {}, lambda e: e.fit(np.array([[{"a": 1}]] * 30, dtype=object), Y),
     TypeError, r"argument must be a string.*number.*OneHotEncoder"),
    ("X-complex", {}, lambda e: e.fit(X + 1j, Y), ValueError,
     r"Complex data not supported.*real and imaginary parts"),
    ("X-ragged-rows", {}, lambda e: e.fit([[1.0, 2.0], [3.0]], [0, 1]), ValueError,
     r"inhomogeneous.*same number of features in every row"),
    ("y-none", {}, lambda e: e.fit(X, None), ValueError,
     r"requires y to be passed"),
    ("y-continuous", {}, lambda e: e.fit(X, RNG.rand(30)), ValueError,
     r"Unknown label type: continuous.*discrete classes"),
    ("y-mixed-str-and-int", {},
     lambda e: e.fit(X, np.array(["a", 1, 2], dtype=object)[Y]), ValueError,
     r"mixes string and numeric labels.*astype\(str\)"),
    ("y-with-None", {}, lambda e: e.fit(X, np.array(["a", None, "b"], dtype=object)[Y]),
     ValueError, r"y contains None.*Drop the unlabelled samples"),
    ("y-multiclass-multioutput", {}, lambda e: e.fit(X, np.c_[Y, Y]), ValueError,
     r"Multiclass-multioutput.*MultiOutputClassifier"),
    ("y-3d", {}, lambda e: e.fit(X, Y.reshape(30, 1, 1)), ValueError,
     r"dim 3"),
    # ------------------------------------------------------------------ predicting
    ("predict-before-fit", {}, lambda e: e.predict(X), NotFittedError,
     r"not fitted yet.*Call 'fit'"),
    ("predict_proba-before-fit", {}, lambda e: e.predict_proba(X), NotFittedError,
     r"not fitted yet"),
    ("predict_log_proba-before-fit", {}, lambda e: e.predict_log_proba(X), NotFittedError,
     r"not fitted yet"),
    ("score-before-fit", {}, lambda e: e.score(X, Y), NotFittedError, r"not fitted yet"),
    ("predict-too-few-features", {}, lambda e: fitted(e).predict(X[:, :3]), ValueError,
     r"X has 3 features, but MLPScratchClassifier is expecting 4.*same features"),
    ("predict_proba-too-many-features", {},
     lambda e: fitted(e).predict_proba(np.c_[X, X]), ValueError,
     r"X has 8 features.*expecting 4"),
    ("predict-sparse-wrong-features", {},
     lambda e: fitted(e).predict(sparse.csr_matrix(X[:, :2])), ValueError,
     r"X has 2 features"),
    ("predict-nan", {}, lambda e: fitted(e).predict(with_nan(X)), ValueError,
     r"Input X contains NaN"),
    ("predict-inf", {}, lambda e: fitted(e).predict_proba(with_inf(X)), ValueError,
     r"Input X contains infinity"),
    ("predict-strings", {}, lambda e: fitted(e).predict(np.full((2, 4), "a")), ValueError,
     r"strings.*OneHotEncoder"),
    ("predict-complex", {}, lambda e: fitted(e).predict(X + 1j), ValueError,
     r"Complex data not supported"),
    ("predict-3d", {}, lambda e: fitted(e).predict(X.reshape(30, 2, 2)), ValueError,
     r"dim 3.*Flatten"),
    ("predict-1d", {}, lambda e: fitted(e).predict(X[0]), ValueError,
     r"Expected 2D array.*Reshape your data"),
    ("predict-empty", {}, lambda e: fitted(e).predict(np.empty((0, 4))), ValueError,
     r"0 sample\(s\)"),
    ("predict-overflowing-features", {},
     lambda e: fitted(e).predict_proba(np.r_[np.full((2, 4), 1.5e308), X]), ValueError,
     r"overflowed \(are not finite\) for [12] of 32 samples.*StandardScaler"),
    # ------------------------------------------------------------- hyperparameters
    ("hidden-size-zero", {"hidden_layer_sizes": 0}, lambda e: e.fit(X, Y), ValueError,
     r"'hidden_layer_sizes' " + INVALID),
    ("hidden-size-zero-in-tuple", {"hidden_layer_sizes": (10, 0)}, lambda e: e.fit(X, Y),
     ValueError, r"hidden_layer_sizes must be positive integers.*\(10, 0\)"),
    ("hidden-size-negative", {"hidden_layer_sizes": [-5]}, lambda e: e.fit(X, Y),
     ValueError, r"hidden_layer_sizes must be positive integers"),
    ("hidden-size-float", {"hidden_layer_sizes": (2.5,)}, lambda e: e.fit(X, Y),
     ValueError, r"hidden_layer_sizes must be positive integers.*e\.g\."),
    ("hidden-size-bool", {"hidden_layer_sizes": (True,)}, lambda e: e.fit(X, Y),
     ValueError, r"hidden_layer_sizes must be positive integers"),
    ("hidden-size-string", {"hidden_layer_sizes": "abc"}, lambda e: e.fit(X, Y),
     ValueError, r"'hidden_layer_sizes' " + INVALID),
    ("batch-size-zero", {"batch_size": 0}, lambda e: e.fit(X, Y), ValueError,
     r"'batch_size' " + INVALID),
    ("batch-size-unknown-name", {"batch_size": "big"}, lambda e: e.fit(X, Y), ValueError,
     r"'batch_size' " + INVALID),
    ("max-iter-zero", {"max_iter": 0}, lambda e: e.fit(X, Y), ValueError,
     r"'max_iter' " + INVALID),
    ("max-fun-zero", {"max_fun": 0}, lambda e: e.fit(X, Y), ValueError,
     r"'max_fun' " + INVALID),
    ("n-iter-no-change-zero", {"n_iter_no_change": 0}, lambda e: e.fit(X, Y), ValueError,
     r"'n_iter_no_change' " + INVALID),
    ("activation-unknown", {"activation": "swish2"}, lambda e: e.fit(X, Y), ValueError,
     r"'activation' " + INVALID + r" a str among.*'gelu'.*Got 'swish2'"),
    ("solver-unknown", {"solver": "newton"}, lambda e: e.fit(X, Y), ValueError,
     r"'solver' " + INVALID + r".*'adamw'.*Got 'newton'"),
    ("learning-rate-unknown", {"learning_rate": "warm"}, lambda e: e.fit(X, Y),
     ValueError, r"'learning_rate' " + INVALID + r".*'cosine'"),
    ("weight-init-unknown", {"weight_init": "xavier"}, lambda e: e.fit(X, Y), ValueError,
     r"'weight_init' " + INVALID + r".*'he_normal'"),
    ("class-weight-unknown-name", {"class_weight": "bogus"}, lambda e: e.fit(X, Y),
     ValueError, r"'class_weight' " + INVALID + r".*'balanced'"),
    ("learning-rate-init-zero", {"learning_rate_init": 0.0}, lambda e: e.fit(X, Y),
     ValueError, r"'learning_rate_init' " + INVALID + r".*\(0\.0, inf\)"),
    ("learning-rate-init-nan", {"learning_rate_init": np.nan}, lambda e: e.fit(X, Y),
     ValueError, r"'learning_rate_init' " + INVALID),
    ("alpha-negative", {"alpha": -1.0}, lambda e: e.fit(X, Y), ValueError,
     r"'alpha' " + INVALID),
    ("tol-negative", {"tol": -1e-3}, lambda e: e.fit(X, Y), ValueError,
     r"'tol' " + INVALID),
    ("epsilon-zero", {"epsilon": 0.0}, lambda e: e.fit(X, Y), ValueError,
     r"'epsilon' " + INVALID),
    ("power-t-negative", {"power_t": -0.5}, lambda e: e.fit(X, Y), ValueError,
     r"'power_t' " + INVALID),
    ("validation-fraction-one", {"validation_fraction": 1.0}, lambda e: e.fit(X, Y),
     ValueError, r"'validation_fraction' " + INVALID + r".*\[0\.0, 1\.0\)"),
    ("validation-fraction-negative", {"validation_fraction": -0.1},
     lambda e: e.fit(X, Y), ValueError, r"'validation_fraction' " + INVALID),
    ("early-stopping-without-validation", {"early_stopping": True,
                                           "validation_fraction": 0.0},
     lambda e: e.fit(X, Y), ValueError,
     r"early_stopping=True.*validation_fraction.*is 0: set validation_fraction in"),
    ("momentum-above-one", {"momentum": 1.5}, lambda e: e.fit(X, Y), ValueError,
     r"'momentum' " + INVALID),
    ("beta-1-one", {"beta_1": 1.0}, lambda e: e.fit(X, Y), ValueError,
     r"'beta_1' " + INVALID + r".*\[0\.0, 1\.0\)"),
    ("beta-2-one", {"beta_2": 1.0}, lambda e: e.fit(X, Y), ValueError,
     r"'beta_2' " + INVALID),
    ("label-smoothing-one", {"label_smoothing": 1.0}, lambda e: e.fit(X, Y), ValueError,
     r"'label_smoothing' " + INVALID + r".*\[0\.0, 1\.0\)"),
    ("label-smoothing-negative", {"label_smoothing": -0.1}, lambda e: e.fit(X, Y),
     ValueError, r"'label_smoothing' " + INVALID),
    ("dropout-one", {"dropout": 1.0}, lambda e: e.fit(X, Y), ValueError,
     r"'dropout' " + INVALID + r".*\[0\.0, 1\.0\)"),
    ("dropout-negative", {"dropout": -0.1}, lambda e: e.fit(X, Y), ValueError,
     r"'dropout' " + INVALID),
    ("dropout-one-in-list", {"hidden_layer_sizes": (4, 4), "dropout": [0.1, 1.0]},
     lambda e: e.fit(X, Y), ValueError, r"dropout rates must be in \[0, 1\)"),
    ("dropout-list-too-long", {"hidden_layer_sizes": (4, 4), "dropout": [0.1, 0.2, 0.3]},
     lambda e: e.fit(X, Y), ValueError, r"one rate per hidden layer \(2\)"),
    ("dropout-list-too-short", {"hidden_layer_sizes": (4, 4, 4), "dropout": [0.1, 0.2]},
     lambda e: e.fit(X, Y), ValueError, r"one rate per hidden layer \(3\)"),
    ("dropout-list-of-strings", {"dropout": ["a"]}, lambda e: e.fit(X, Y), ValueError,
     r"dropout must be a float or a list of floats"),
    ("dropout-with-lbfgs", {"dropout": 0.5, "solver": "lbfgs"}, lambda e: e.fit(X, Y),
     ValueError, r"dropout needs a stochastic solver.*solver='adam'"),
    ("clip-grad-norm-zero", {"clip_grad_norm": 0.0}, lambda e: e.fit(X, Y), ValueError,
     r"'clip_grad_norm' " + INVALID + r".*\(0\.0, inf\) or None"),
    ("clip-grad-norm-negative", {"clip_grad_norm": -1.0}, lambda e: e.fit(X, Y),
     ValueError, r"'clip_grad_norm' " + INVALID),
    ("warmup-iter-negative", {"warmup_iter": -1}, lambda e: e.fit(X, Y), ValueError,
     r"'warmup_iter' " + INVALID + r".*\[0, inf\)"),
    ("weight-decay-negative", {"weight_decay": -0.01}, lambda e: e.fit(X, Y), ValueError,
     r"'weight_decay' " + INVALID),
    ("shuffle-not-bool", {"shuffle": "yes"}, lambda e: e.fit(X, Y), ValueError,
     r"'shuffle' " + INVALID),
    ("random-state-string", {"random_state": "seed"}, lambda e: e.fit(X, Y), ValueError,
     r"'random_state' " + INVALID),
    ("unknown-parameter-set-params", {}, lambda e: e.set_params(hidden_size=3),
     ValueError, r"Invalid parameter 'hidden_size'.*Valid parameters are"),
    ("unknown-parameter-constructor", {}, lambda e: MLPScratchClassifier(n_hidden=3),
     TypeError, r"unexpected keyword argument 'n_hidden'"),
    # --------------------------------------------------------------- sample weights
    ("sample-weight-too-short", {}, lambda e: e.fit(X, Y, sample_weight=np.ones(29)),
     ValueError, r"sample_weight.shape == \(29,\), expected \(30,\).*one weight per"),
    ("sample-weight-2d", {}, lambda e: e.fit(X, Y, sample_weight=np.ones((30, 2))),
     ValueError, r"1D array.*one weight per sample"),
    ("sample-weight-negative", {},
     lambda e: e.fit(X, Y, sample_weight=np.r_[-1.0, np.ones(29)]), ValueError,
     r"Negative values.*must be >= 0"),
    ("sample-weight-all-zero", {}, lambda e: e.fit(X, Y, sample_weight=np.zeros(30)),
     ValueError, r"at least one non-zero"),
    ("sample-weight-nan", {}, lambda e: e.fit(X, Y, sample_weight=with_nan(np.ones(30))),
     ValueError, r"Input sample_weight contains NaN.*finite numbers >= 0"),
    ("sample-weight-inf", {}, lambda e: e.fit(X, Y, sample_weight=with_inf(np.ones(30))),
     ValueError, r"sample_weight contains infinity"),
    ("sample-weight-strings", {}, lambda e: e.fit(X, Y, sample_weight=["a"] * 30),
     ValueError, r"could not convert.*Sample weights must be"),
    ("sample-weight-one-class-left", {},
     lambda e: e.fit(X, Y, sample_weight=(Y == 0).astype(float)), ValueError,
     r"Only one class has positive sample_weight.*another class"),
    ("partial-fit-sample-weight-too-long", {},
     lambda e: e.partial_fit(X, Y, classes=[0, 1, 2], sample_weight=np.ones(31)),
     ValueError, r"expected \(30,\)"),
    # ---------------------------------------------------------------- class weights
    ("class-weight-unknown-label", {"class_weight": {0: 1.0, 7: 2.0}},
     lambda e: e.fit(X, Y), ValueError,
     r"class_weight names labels that are not classes: \['7'\].*classes are"),
    ("class-weight-string-label", {"class_weight": {"zero": 2.0}}, lambda e: e.fit(X, Y),
     ValueError, r"not classes: \['zero'\]"),
    ("class-weight-negative", {"class_weight": {0: -1.0}}, lambda e: e.fit(X, Y),
     ValueError, r"class_weight\[0\] must be a finite number >= 0, got -1"),
    ("class-weight-nan", {"class_weight": {1: np.nan}}, lambda e: e.fit(X, Y),
     ValueError, r"class_weight\[1\] must be a finite number"),
    ("class-weight-not-a-number", {"class_weight": {2: "heavy"}}, lambda e: e.fit(X, Y),
     ValueError, r"class_weight\[2\] must be a finite number >= 0, got 'heavy'"),
    ("class-weight-all-zero", {"class_weight": {0: 0, 1: 0, 2: 0}},
     lambda e: e.fit(X, Y), ValueError, r"every sample a weight of 0"),
    ("class-weight-list-for-multiclass", {"class_weight": [{0: 1.0}]},
     lambda e: e.fit(X, Y), ValueError, r"list .*is for multilabel targets"),
    # ------------------------------------------------------------------ partial_fit
    ("partial-fit-without-classes", {}, lambda e: e.partial_fit(X, Y), ValueError,
     r"classes must be passed on the first call to partial_fit"),
    ("partial-fit-y-outside-classes", {}, lambda e: e.partial_fit(X, Y, classes=[0, 1]),
     ValueError, r"`y` has classes not in `self.classes_`.*Pass every class"),
    ("partial-fit-single-class", {}, lambda e: e.partial_fit(X, Y * 0, classes=[0]),
     ValueError, r"classes must list at least 2 classes, got \[0\]"),
    ("partial-fit-new-class-later", {}, lambda e: partially_fitted(e).partial_fit(X, Y + 1),
     ValueError, r"`y` has classes not in `self.classes_`"),
    ("partial-fit-classes-changed", {},
     lambda e: partially_fitted(e).partial_fit(X, Y, classes=[0, 1, 2, 3]), ValueError,
     r"`classes=\[0, 1, 2, 3\]` is not the same as on last call"),
    ("partial-fit-classes-of-other-type", {},
     lambda e: e.partial_fit(X, Y, classes=["a", "b", "c"]), ValueError,
     r"`y` has classes not in"),
    ("partial-fit-y-none", {}, lambda e: e.partial_fit(X, None, classes=[0, 1]),
     ValueError, r"requires y to be passed"),
    ("partial-fit-nan-first-call", {},
     lambda e: e.partial_fit(with_nan(X), Y, classes=[0, 1, 2]), ValueError,
     r"Input X contains NaN"),
    ("partial-fit-features-changed", {},
     lambda e: partially_fitted(e).partial_fit(X[:, :3], Y), ValueError,
     r"X has 3 features, but MLPScratchClassifier is expecting 4"),
    ("partial-fit-with-lbfgs", {"solver": "lbfgs"},
     lambda e: e.partial_fit(X, Y, classes=[0, 1, 2]), AttributeError,
     r"has no attribute 'partial_fit'"),
    # ------------------------------------------------------------------- warm_start
    ("warm-start-new-class", {"warm_start": True}, lambda e: fitted(e).fit(X, Y + 1),
     ValueError, r"warm_start can only be used where `y` has the same classes.*"
     r"warm_start=False"),
    ("warm-start-fewer-classes", {"warm_start": True},
     lambda e: fitted(e).fit(X, np.minimum(Y, 1)), ValueError,
     r"warm_start can only be used where `y` has the same classes"),
    ("warm-start-string-classes", {"warm_start": True},
     lambda e: fitted(e).fit(X, np.array(["a", "b", "c"])[Y]), ValueError,
     r"same classes"),
    ("warm-start-features-changed", {"warm_start": True},
     lambda e: fitted(e).fit(X[:, :3], Y), ValueError, r"X has 3 features"),
    ("warm-start-layers-changed", {"warm_start": True},
     lambda e: fitted(e).set_params(hidden_layer_sizes=(7,)).fit(X, Y), ValueError,
     r"layers \[4, 5, 3\].*ask for \[4, 7, 3\].*warm_start=False"),
]


@pytest.fixture
def count_training(monkeypatch):
    """Count every start of training, stochastic or L-BFGS."""
    TRAINING_RUNS.update(total=0, setup=0)
    real_fit, real_lbfgs = StochasticTrainer.fit, estimator_module.fit_lbfgs

    def counting_fit(self, *args, **kwargs):
        TRAINING_RUNS["total"] += 1
        return real_fit(self, *args, **kwargs)

    def counting_lbfgs(*args, **kwargs):
        TRAINING_RUNS["total"] += 1
        return real_lbfgs(*args, **kwargs)

    monkeypatch.setattr(StochasticTrainer, "fit", counting_fit)
    monkeypatch.setattr(estimator_module, "fit_lbfgs", counting_lbfgs)
    return TRAINING_RUNS


@pytest.mark.parametrize(
    "params, bad_call, error, match",
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_bad_input_fails_early_with_clear_message(count_training, params, bad_call,
                                                   error, match):
    est = MLPScratchClassifier(**{**FAST, **params})
    with pytest.raises(error, match=re.compile(match, re.DOTALL)) as info:
        bad_call(est)
    assert type(info.value) not in (IndexError, KeyError, FloatingPointError)
    assert count_training["total"] == count_training["setup"], "training had started"
    if hasattr(est, "coefs_"):  # a failed call leaves the fitted model as it was
        np.testing.assert_array_equal(est.predict_proba(X),
                                      PROBA_AFTER_SETUP.pop(id(est)))
        assert set(est.predict(X)) <= set(est.classes_)
    else:
        with pytest.raises(NotFittedError):
            est.predict(X)


def test_table_ids_are_unique():
    ids = [row[0] for row in TABLE]
    assert len(ids) == len(set(ids))


def test_failed_first_partial_fit_leaves_no_half_model():
    est = MLPScratchClassifier(**FAST)
    with pytest.raises(ValueError, match="NaN"):
        est.partial_fit(with_nan(X), Y, classes=[0, 1, 2])
    assert not hasattr(est, "classes_")
    # The next call is still the first one: it needs `classes` again ...
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, Y)
    # ... and with them it trains normally.
    est.partial_fit(X, Y, classes=[0, 1, 2])
    assert est.predict_proba(X).shape == (30, 3)


def test_failed_refit_keeps_the_previous_model():
    est = MLPScratchClassifier(**FAST).fit(X, Y)
    before = est.predict_proba(X)
    with pytest.raises(ValueError, match="non-zero"):  # raised after the new classes
        est.fit(X, np.array(["a", "b", "c"])[Y], sample_weight=np.zeros(30))
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    np.testing.assert_array_equal(est.predict_proba(X), before)


@pytest.mark.parametrize("bad_refit", [
    pytest.param(lambda e: e.fit(X, Y % 2, sample_weight=np.ones(29)),
                 id="binary-y-with-bad-sample-weight"),
    pytest.param(lambda e: e.fit(X[:, :3], np.zeros(30), sample_weight=np.zeros(30)),
                 id="new-features-one-class-no-weight"),
])
def test_failed_refit_late_error_keeps_the_previous_model(bad_refit):
    est = MLPScratchClassifier(**FAST).fit(X, Y)
    before = est.predict_proba(X)
    with pytest.raises(ValueError):
        bad_refit(est)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    np.testing.assert_array_equal(est.predict_proba(X), before)


def _second_call_fails(est, method):
    """Train ``est`` once, then make its second call fail midway through training."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if method == "partial_fit":
            est.partial_fit(X, Y, classes=[0, 1, 2])
        else:
            est.fit(X, Y)
    if method == "partial_fit":  # partial_fit does not warn: break the epoch's end
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(StochasticTrainer, "_end_epoch", lambda *args: 1 / 0)
            with pytest.raises(ZeroDivisionError):
                est.partial_fit(X, Y)
    else:  # the max_iter warning, raised as an error after the last epoch
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            with pytest.raises(ConvergenceWarning):
                est.fit(X, Y)
    return est


@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_error_during_training_leaves_a_consistent_model(method):
    """Once training has started, the weights change in place: a failure midway must
    leave the fitted attributes describing those weights, not half of the old ones."""
    params = {**FAST, "warm_start": method == "warm_start"}
    failed = _second_call_fails(MLPScratchClassifier(**params), method)
    np.testing.assert_array_equal(failed.coefs_[0], failed._network.coefs[0])
    assert failed.t_ == failed._history.t
    assert failed.loss_curve_ is failed._history.loss_curve
    assert np.isfinite(failed.predict_proba(X)).all()
    if method == "warm_start":  # the warning came after the last epoch: nothing lost
        ok = MLPScratchClassifier(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok.fit(X, Y).fit(X, Y)
        assert (failed.n_iter_, failed.t_, failed.loss_curve_) == (
            ok.n_iter_, ok.t_, ok.loss_curve_)
        np.testing.assert_array_equal(failed.predict_proba(X), ok.predict_proba(X))
