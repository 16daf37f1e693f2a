"""scikit-learn's estimator checks, whole, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpy_mlp import MLPScratchClassifier

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
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
