"""TabularMLPClassifier and TabularMLPRegressor: tables in, sklearn citizens out."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import (
    check_methods_sample_order_invariance,
    check_methods_subset_invariance,
    parametrize_with_checks,
)

from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor
from sknumpy_mlp.tabular._training import coslog, flat_cos

FAST = dict(hidden_layer_sizes=(16, 16), n_epochs=4, random_state=0)
CHECKED = dict(hidden_layer_sizes=(16, 16), random_state=0)  # default epochs


def _frame(n=240, seed=0):
    """Numbers with NaNs, a few-level category, a many-level category, a string column."""
    rng = np.random.RandomState(seed)
    X = pd.DataFrame({
        "x": rng.normal(size=n),
        "skewed": np.exp(rng.normal(size=n)),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "city": rng.choice([f"c{i}" for i in range(20)], n).astype(object),
    })
    X.loc[rng.rand(n) < 0.1, "x"] = np.nan
    y = ((X["x"].fillna(0) + (X["colour"] == "red") * 1.5
          + X["city"].isin(["c1", "c2", "c3"]) * 2) > 0.8).astype(int)
    return X, y.to_numpy()


# Integer sample weights are not the same as repeated rows here, and cannot be without
# giving up the recipe: the preprocessing's quantiles, the data-dependent
# initialization's random rows and its variance are computed on the rows as given
# (weights enter the loss, the hold-out split and the validation score, as documented).
WEIGHTS_ARE_NOT_REPEATS = {
    "check_sample_weight_equivalence_on_dense_data":
        "quantile scaling and data-dependent initialization see rows, not weights",
}
# In float32 (the default) BLAS rounds a row's products differently by the shape and
# position of the block it sits in (measured: about 1e-7 on probabilities, on an
# OpenBLAS Haswell build for reordered rows, on another machine for one-row batches);
# the checks allow 1e-9. dtype="float64" rounds at 1e-16 and passes them: tested below.
FLOAT32_ROUNDING = {
    name: "float32 products round by batch shape, about 1e-7; dtype='float64' passes"
    for name in ("check_methods_subset_invariance",
                 "check_methods_sample_order_invariance")
}


@parametrize_with_checks([TabularMLPClassifier(**CHECKED), TabularMLPRegressor(**CHECKED)],
                         expected_failed_checks=lambda est: {**WEIGHTS_ARE_NOT_REPEATS,
                                                             **FLOAT32_ROUNDING})
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_methods_subset_invariance,
                                   check_methods_sample_order_invariance])
@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
def test_float64_predictions_do_not_depend_on_the_batch(cls, check):
    estimator = cls(**CHECKED, dtype="float64")
    check(type(estimator).__name__, estimator)


def test_learns_a_mixed_table_with_missing_values_and_categories():
    X, y = _frame()
    clf = TabularMLPClassifier(hidden_layer_sizes=(32, 32), n_epochs=40,
                               random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    kinds = list(clf.preprocessor_.feature_kinds_)
    assert kinds == ["numeric", "numeric", "one-hot", "code"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_unseen_categories_and_missing_values_at_predict_time_do_not_fail():
    X, y = _frame()
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    new = X.head(3).copy()
    new["city"] = ["never-seen", None, "c1"]
    new["colour"] = pd.Categorical(["purple", None, "red"])
    new.loc[0, "skewed"] = np.nan
    assert clf.predict_proba(new).shape == (3, 2)


def test_same_seed_same_model_and_the_best_epoch_is_kept():
    X, y = _frame()
    a = TabularMLPClassifier(**FAST).fit(X, y)
    b = TabularMLPClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert len(a.validation_scores_) == a.n_iter_ == 4
    assert a.n_members_ == len(a.best_epochs_) == 5  # a small table: a full ensemble
    single = TabularMLPClassifier(**FAST, n_members=1).fit(X, y)
    assert single.validation_scores_[single.best_epochs_[0]] == max(
        single.validation_scores_)


def test_sample_weight_zero_drops_rows_and_class_weight_shifts_predictions():
    X, y = _frame()
    w = np.ones(len(y))
    w[y == 1] = 0.0
    w[np.flatnonzero(y == 1)[:5]] = 1.0
    balanced = TabularMLPClassifier(**FAST, class_weight="balanced").fit(X, y, w)
    plain = TabularMLPClassifier(**FAST).fit(X, y, w)
    assert balanced.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


@pytest.mark.parametrize("labels", [np.array([1, 2]), np.array(["no", "yes"])])
def test_class_weight_dict_names_labels_not_positions(labels):
    """``{label: w}`` weighs that label's rows by w, exactly as sample_weight would."""
    X, y = _frame(120)
    y = labels[y]
    heavy = labels[0]  # label 1 (or "no"): with positions 0/1, key 1 would hit the other
    weighted = TabularMLPClassifier(**FAST, class_weight={heavy: 5.0}).fit(X, y)
    as_weights = TabularMLPClassifier(**FAST).fit(X, y, np.where(y == heavy, 5.0, 1.0))
    np.testing.assert_array_equal(weighted.predict_proba(X), as_weights.predict_proba(X))
    with pytest.raises(ValueError, match="not classes"):
        TabularMLPClassifier(**FAST, class_weight={"maybe": 2.0}).fit(X, y)


def test_multiclass_and_string_labels():
    X, y = make_classification(600, 6, n_informative=4, n_classes=3, random_state=0)
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = TabularMLPClassifier(hidden_layer_sizes=(32,), n_epochs=60,
                               random_state=0).fit(X, labels)
    assert set(clf.predict(X)) <= set(labels) and clf.score(X, labels) > 0.8
    assert clf.predict_proba(X).shape == (600, 3)


def test_pipeline_grid_search_cross_validation_and_pickle():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X, y = X.iloc[::3], y.iloc[::3]
    pipe = make_pipeline(FunctionTransformer(), TabularMLPClassifier(**FAST))
    search = GridSearchCV(pipe, {"tabularmlpclassifier__dropout": [0.0, 0.15]}, cv=2)
    search.fit(X, y)
    assert search.best_score_ > 0.8
    assert cross_val_score(TabularMLPClassifier(**FAST), X, y, cv=2).mean() > 0.8
    clone = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(clone.predict_proba(X),
                                  search.best_estimator_.predict_proba(X))


def test_regressor_learns_diabetes_and_clips_to_the_training_range():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = TabularMLPRegressor(hidden_layer_sizes=(32, 32), n_epochs=30,
                              random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.45
    far = X.head(2) * 1000
    pred = reg.predict(far)
    assert np.all((pred >= y.min()) & (pred <= y.max()))


def test_schedules():
    assert coslog(0.0) == 0.0 and coslog(1.0) == pytest.approx(0.0, abs=1e-12)
    assert coslog((2**0.5 - 1) / 15) == pytest.approx(1.0)  # the first peak
    assert flat_cos(0.2) == 1.0 and flat_cos(0.75) == pytest.approx(0.5)
    assert flat_cos(1.0) == pytest.approx(0.0, abs=1e-12)


def test_clear_errors():
    X, y = _frame(40)
    with pytest.raises(ValueError, match="one class"):
        TabularMLPClassifier(**FAST).fit(X, np.zeros(40))
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        TabularMLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    clf = TabularMLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="Expected a 2-dimensional container"):
        clf.predict(X.iloc[0])  # a row as a Series: sklearn's error says what to do
    assert clf.predict(X.iloc[[0]]).shape == (1,)


@pytest.mark.parametrize("cls, has_scale", [(TabularMLPClassifier, False),
                                            (TabularMLPRegressor, True)])
def test_defaults_measured_in_the_benchmarks(cls, has_scale):
    """The front scale: off for classification, on for regression (benchmarks/results/
    tabular.md, tabular_regression.md); two-level categories as one signed column."""
    X = pd.DataFrame({"x": np.linspace(-1, 1, 40), "vote": ["y", "n"] * 20})
    est = cls(hidden_layer_sizes=(4,), n_epochs=1, n_members=1, random_state=0).fit(
        X, np.arange(40) % 2)
    names = [type(layer).__name__ for layer in est._networks[0].layers]
    assert ("Scale" in names) is has_scale
    assert est.get_params()["binary_encoding"] == "signed"
    assert est.preprocessor_.feature_kinds_.tolist() == ["numeric", "binary"]
