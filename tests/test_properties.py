"""Properties that hold for every dataset and setting, checked with hypothesis."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sknumpy_mlp import MLPScratchClassifier

# No example database: the work tree is shared, and each run draws fresh examples.
SETTINGS = settings(max_examples=25, deadline=None, database=None)
FINITE = st.floats(-10, 10, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def datasets(draw, max_classes=4):
    """Small X (n, d) and y with every class present at least twice."""
    n_classes = draw(st.integers(2, max_classes))
    n_per_class = draw(st.integers(2, 6))
    n_features = draw(st.integers(1, 4))
    n = n_classes * n_per_class
    X = draw(arrays(np.float64, (n, n_features), elements=FINITE))
    order = draw(st.permutations(range(n)))
    y = np.repeat(np.arange(n_classes), n_per_class)[list(order)]
    return X, y


@st.composite
def estimators(draw):
    """Any small configuration, new parameters included."""
    solver = draw(st.sampled_from(["adam", "sgd", "lbfgs", "adamw", "rmsprop"]))
    stochastic = solver != "lbfgs"
    params = {
        "hidden_layer_sizes": tuple(draw(st.lists(st.integers(1, 6), max_size=2))),
        "activation": draw(st.sampled_from(["identity", "logistic", "tanh", "relu",
                                            "leaky_relu", "elu", "selu", "gelu",
                                            "silu", "mish"])),
        "solver": solver,
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1.0])),
        "learning_rate_init": draw(st.sampled_from([1e-3, 0.1, 10.0])),
        "label_smoothing": draw(st.sampled_from([0.0, 0.1])),
        "batch_norm": stochastic and draw(st.booleans()),
        "dropout": draw(st.sampled_from([0.0, 0.3])) if stochastic else 0.0,
        "max_iter": 5,
        "random_state": draw(st.integers(0, 2**16)),
    }
    return MLPScratchClassifier(**params)


def fit_quietly(est, X, y, **kwargs):
    return est.fit(X, y, **kwargs)  # ConvergenceWarning is ignored by the test config


@SETTINGS
@given(est=estimators(), data=datasets(),
       scale=st.sampled_from([1.0, 1e3, 1e6]))
def test_probabilities_are_finite_in_unit_interval_and_sum_to_one(est, data, scale):
    X, y = data
    fit_quietly(est, X, y)
    for X_new in (X, X * scale, -X * scale):  # also far outside the training range
        proba = est.predict_proba(X_new)
        assert proba.shape == (len(X), len(np.unique(y)))
        assert np.all(np.isfinite(proba))
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@SETTINGS
@given(est=estimators(), data=datasets(),
       names=st.sampled_from([None, ["ant", "bee", "cat", "dog"], [-3.0, 0.0, 2.0, 7.0]]))
def test_predict_is_the_argmax_of_predict_proba(est, data, names):
    X, y = data
    labels = y if names is None else np.asarray(names)[y]
    fit_quietly(est, X, labels)
    proba = est.predict_proba(X)
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])


@SETTINGS
@given(data=datasets(), seed=st.integers(0, 2**16),
       solver=st.sampled_from(["adam", "sgd", "lbfgs"]),
       hidden=st.sampled_from([(), (4,), (3, 3)]))
def test_relabelling_permutes_the_probability_columns(data, seed, solver, hidden):
    """Training commutes with any relabelling of the classes.

    A relabelling moves the classes to other output columns, where the random initial
    weights differ; so both models start from the same weights, columns permuted, and
    must then stay permutations of each other through training.
    """
    X, y = data
    n_classes = y.max() + 1
    new_label = np.random.RandomState(seed).permutation(n_classes) * 10 + 5
    params = {"hidden_layer_sizes": hidden, "solver": solver, "max_iter": 3,
              "warm_start": True, "random_state": 0}
    before = fit_quietly(MLPScratchClassifier(**params), X, y)
    after = fit_quietly(MLPScratchClassifier(**params), X, new_label[y])
    columns = np.searchsorted(after.classes_, new_label)  # column of class c, after
    for a, b in zip(after.coefs_[:-1] + after.intercepts_[:-1],
                    before.coefs_[:-1] + before.intercepts_[:-1]):
        a[...] = b
    if n_classes == 2:  # one logistic output: swapping the classes negates it
        sign = 1.0 if columns[1] == 1 else -1.0
        after.coefs_[-1][...] = sign * before.coefs_[-1]
        after.intercepts_[-1][...] = sign * before.intercepts_[-1]
    else:
        after.coefs_[-1][:, columns] = before.coefs_[-1]
        after.intercepts_[-1][columns] = before.intercepts_[-1]
    np.testing.assert_allclose(after.predict_proba(X)[:, columns],
                               before.predict_proba(X), rtol=1e-12, atol=1e-15)
    fit_quietly(before, X, y)  # warm start: train both further
    fit_quietly(after, X, new_label[y])
    np.testing.assert_allclose(after.predict_proba(X)[:, columns],
                               before.predict_proba(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(after.predict(X), new_label[before.predict(X)])


@SETTINGS
@given(est=estimators(), data=datasets(),
       to_label=st.sampled_from([lambda y: y + 100, lambda y: y * 3.0 - 1,
                                 lambda y: np.array(list("abcd"))[y]]))
def test_order_preserving_relabelling_changes_nothing_but_the_labels(est, data,
                                                                      to_label):
    X, y = data
    proba = fit_quietly(est, X, y).predict_proba(X)
    pred = est.predict(X)
    relabelled = fit_quietly(est, X, to_label(y))
    np.testing.assert_array_equal(relabelled.predict_proba(X), proba)
    np.testing.assert_array_equal(relabelled.predict(X), to_label(pred))


@SETTINGS
@given(data=datasets(), counts=st.data(), hidden=st.sampled_from([(), (3,), (4, 2)]))
def test_repeating_samples_equals_integer_sample_weights(data, counts, hidden):
    """Weight w is w copies of the sample: the same objective, so the same L-BFGS run.

    The two objectives differ only by rounding (one sum is longer), which a non-convex
    run on degenerate data amplifies after a few iterations; so an MLP is compared
    after 3 iterations, and the converged run is checked on a convex model.
    """
    X, y = data
    w = np.asarray(counts.draw(st.lists(st.integers(1, 3), min_size=len(y),
                                        max_size=len(y))))
    X_rep, y_rep = np.repeat(X, w, axis=0), np.repeat(y, w)

    def both(**params):
        params = {"solver": "lbfgs", "tol": 1e-12, "random_state": 0, **params}
        return (fit_quietly(MLPScratchClassifier(**params), X_rep, y_rep),
                fit_quietly(MLPScratchClassifier(**params), X, y,
                            sample_weight=w.astype(float)))

    repeated, weighted = both(hidden_layer_sizes=hidden, max_iter=3)
    params = repeated.coefs_ + repeated.intercepts_
    # Rounding noise scales with the whole parameter vector: a layer whose weights
    # stay near 0 (X all zeros) still carries the others' absolute rounding error.
    scale = max(np.abs(p).max() for p in params)
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, params):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    # Converged: L-BFGS-B also stops on scipy's default relative-reduction test
    # (ftol ~2e-9, which `tol` does not set, as in scikit-learn), so the two runs end
    # at slightly different points of the one optimum, far apart where the data are
    # degenerate (identical rows with different labels make the optimum flat). Over
    # 400 generated cases the losses differed by up to 7e-6 (relative) and the
    # probabilities by up to 3e-3; a weighting error moves the loss by percents.
    repeated, weighted = both(hidden_layer_sizes=(), alpha=1.0, max_iter=5000)
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-4)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               atol=1e-2)


@SETTINGS
@given(data=datasets(), solver=st.sampled_from(["adam", "sgd"]),
       activation=st.sampled_from(["relu", "tanh", "logistic"]))
def test_float32_and_float64_fits_agree(data, solver, activation):
    """Minibatch solvers take the same steps in both precisions, so the models agree to
    float32 rounding (at most 3e-7 apart over 500 generated cases).

    Not L-BFGS: its line search decides each step on the loss, which float32 rounds, so
    on badly scaled data the two runs follow different paths (0.07 apart after 10
    iterations in one case seen). Its float32 fits are covered by check_estimator.
    """
    X, y = data
    params = {"hidden_layer_sizes": (5,), "solver": solver, "activation": activation,
              "max_iter": 10, "random_state": 0}
    single = fit_quietly(MLPScratchClassifier(**params), X.astype(np.float32), y)
    double = fit_quietly(MLPScratchClassifier(**params), X, y)
    assert single.coefs_[0].dtype == np.float32
    assert double.coefs_[0].dtype == np.float64
    np.testing.assert_allclose(single.predict_proba(X.astype(np.float32)),
                               double.predict_proba(X), atol=1e-5)
