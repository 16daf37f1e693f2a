"""scikit-learn's estimator checks, whole, for both estimators; the only expected
failures are those of scikit-learn's own MLP*(early_stopping=True), for the same
reasons."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor

ESTIMATORS = [
    MLPScratchClassifier(),
    MLPScratchClassifier(solver="sgd", max_iter=50),
    MLPScratchClassifier(solver="lbfgs"),
    MLPScratchClassifier(activation="tanh", hidden_layer_sizes=(32, 16), max_iter=50),
    MLPScratchClassifier(early_stopping=True, max_iter=50),
    MLPScratchClassifier(
        activation="gelu", solver="adamw", learning_rate="cosine", warmup_iter=2,
        dropout=0.1, batch_norm=True, class_weight="balanced", label_smoothing=0.05,
        clip_grad_norm=5.0, max_iter=50,
    ),
    # loss="poisson" is left out: the checks' targets are negative, which it refuses.
    MLPScratchRegressor(),
    MLPScratchRegressor(solver="sgd", learning_rate_init=0.01, max_iter=50),
    MLPScratchRegressor(solver="lbfgs"),
    MLPScratchRegressor(early_stopping=True, max_iter=50),
    MLPScratchRegressor(
        activation="silu", solver="rmsprop", learning_rate="exponential",
        warmup_iter=2, dropout=0.1, batch_norm=True, clip_grad_norm=5.0, max_iter=50,
    ),
]


# partial_fit exists and raises with early stopping, as in scikit-learn (code written for
# it relies on that); these checks call it. And 10 samples leave a validation set of 1.
_PARTIAL_FIT = "partial_fit raises with early_stopping=True, as scikit-learn's does"
EARLY_STOPPING_FAILURES = {
    "check_fit_score_takes_y": _PARTIAL_FIT,
    "check_n_features_in_after_fitting": _PARTIAL_FIT,
    "check_estimators_partial_fit_n_features": _PARTIAL_FIT,
    "check_classifiers_one_label": "10 samples: the validation set is too small, as in "
                                   "scikit-learn",
}


_TOO_SMALL = "a few samples leave a validation set of under 2, as in scikit-learn"
# scikit-learn's own MLPRegressor(early_stopping=True) fails these checks too.
REGRESSOR_EARLY_STOPPING_FAILURES = {
    **{k: v for k, v in EARLY_STOPPING_FAILURES.items() if "partial_fit" in v},
    "check_sample_weight_equivalence_on_dense_data": _TOO_SMALL,
    "check_sample_weight_equivalence_on_sparse_data": _TOO_SMALL,
    "check_estimators_nan_inf": _TOO_SMALL,
    "check_regressors_no_decision_function": _TOO_SMALL,
    "check_fit2d_1feature": _TOO_SMALL,
}


def expected_failed_checks(estimator):
    if not estimator.early_stopping:
        return {}
    if isinstance(estimator, MLPScratchRegressor):
        return REGRESSOR_EARLY_STOPPING_FAILURES
    return EARLY_STOPPING_FAILURES


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
