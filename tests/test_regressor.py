"""What a user relies on: MLPScratchRegressor behaves as scikit-learn's MLPRegressor
(to rounding error for the same random_state), and our extras train regressors too."""

import inspect
import warnings

import numpy as np
import pytest
from gradcheck import numerical_gradient, relative_error
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from sknumpy_mlp import MLPScratchRegressor
from sknumpy_mlp._network import Network
from sknumpy_mlp._regression_losses import ExpPoissonDeviance, IdentitySquaredError


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[:250], (y[:250] - y.mean()) / y.std()


def _both(params, X, y, method="fit", **kwargs):
    """Fit ours and scikit-learn's with the same parameters (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = getattr(MLPScratchRegressor(**params), method)(X, y, **kwargs)
        theirs = getattr(MLPRegressor(**params), method)(X, y, **kwargs)
    return ours, theirs


def _assert_same_fit(ours, theirs, X, rtol=1e-10, atol=1e-12):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.out_activation_ == theirs.out_activation_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)


# --------------------------------------------------------- parity with sklearn
SMALL = {"hidden_layer_sizes": (15,), "random_state": 0, "max_iter": 25}
PARITY = [
    pytest.param({"solver": "adam"}, "squared_error", id="adam"),
    pytest.param({"solver": "sgd", "learning_rate_init": 0.01}, "squared_error",
                 id="sgd-nesterov"),
    pytest.param({"solver": "sgd", "learning_rate": "invscaling",
                  "nesterovs_momentum": False, "learning_rate_init": 0.05},
                 "squared_error", id="sgd-invscaling"),
    pytest.param({"solver": "adam", "activation": "tanh", "alpha": 0.1,
                  "hidden_layer_sizes": (10, 5), "batch_size": 32},
                 "squared_error", id="adam-tanh-deep"),
    pytest.param({"solver": "adam"}, "poisson", id="poisson-adam"),
    pytest.param({"solver": "sgd", "learning_rate_init": 0.01}, "poisson",
                 id="poisson-sgd"),
]


def _target(y, loss):
    return np.exp(y) if loss == "poisson" else y


@pytest.mark.parametrize("params, loss", PARITY)
def test_stochastic_parity(diabetes, params, loss):
    X, y = diabetes
    ours, theirs = _both({**SMALL, **params, "loss": loss}, X, _target(y, loss))
    _assert_same_fit(ours, theirs, X)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_lbfgs_parity(diabetes, loss):
    X, y = diabetes
    ours, theirs = _both({**SMALL, "solver": "lbfgs", "max_iter": 40, "loss": loss},
                         X, _target(y, loss))
    # L-BFGS amplifies the last-bit differences of the loss over its iterations.
    _assert_same_fit(ours, theirs, X, rtol=1e-7, atol=1e-9)


def test_parity_when_the_stopping_rule_fires(diabetes):
    X, y = diabetes
    params = {**SMALL, "max_iter": 500, "tol": 1e-2, "n_iter_no_change": 3}
    ours, theirs = _both(params, X, y)
    assert ours.n_iter_ < 500
    _assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_multioutput_parity(diabetes, solver):
    X, y = diabetes
    Y = np.c_[y, 2 * y + 1, -y]
    ours, theirs = _both({**SMALL, "solver": solver}, X, Y)
    assert ours.predict(X).shape == (len(X), 3) and ours.n_outputs_ == 3
    _assert_same_fit(ours, theirs, X, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_sample_weight_parity(diabetes, solver):
    X, y = diabetes
    sw = np.random.RandomState(0).uniform(0.1, 3, size=len(y))
    ours, theirs = _both({**SMALL, "solver": solver, "learning_rate_init": 0.01}, X, y,
                         sample_weight=sw)
    _assert_same_fit(ours, theirs, X)


def test_partial_fit_parity(diabetes):
    X, y = diabetes
    ours = MLPScratchRegressor(hidden_layer_sizes=(15,), random_state=0)
    theirs = MLPRegressor(hidden_layer_sizes=(15,), random_state=0)
    for _ in range(5):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    _assert_same_fit(ours, theirs, X)
    assert ours.t_ == theirs.t_ == 5 * len(X)


def test_warm_start_parity(diabetes):
    X, y = diabetes
    ours, theirs = _both({**SMALL, "max_iter": 5, "warm_start": True}, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, y)
        theirs.fit(X, y)
    _assert_same_fit(ours, theirs, X)


def test_parameters_and_defaults_match_sklearn():
    ours, theirs = MLPScratchRegressor().get_params(), MLPRegressor().get_params()
    assert {k: ours[k] for k in theirs} == theirs
    extras = set(ours) - set(theirs)
    assert extras == {"weight_decay", "warmup_iter", "dropout", "batch_norm",
                      "clip_grad_norm", "weight_init"}
    positional = [p.name for p in inspect.signature(MLPScratchRegressor).parameters.values()
                  if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == ["loss", "hidden_layer_sizes", "activation"]  # as sklearn's


def test_same_public_attributes_as_mlpregressor(diabetes):
    X, y = diabetes
    ours, theirs = _both({**SMALL, "early_stopping": True}, X, y)
    public = {a for a in vars(theirs) if a.endswith("_") and not a.startswith("_")}
    assert public <= set(vars(ours))


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("head", [IdentitySquaredError(), ExpPoissonDeviance()],
                         ids=["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_head_gradient(head, n_outputs):
    """d(sum_i w_i l_i)/dz by central differences; the squared error's gradient is
    that of the sum over outputs (K times the mean it reports), as scikit-learn's."""
    rng = np.random.RandomState(0)
    z0 = rng.normal(size=(7, n_outputs))
    y = rng.poisson(2.0, size=z0.shape).astype(float)
    w = rng.uniform(0.2, 2, size=len(z0))
    factor = n_outputs if isinstance(head, IdentitySquaredError) else 1

    def loss(z):
        return head.loss_and_grad(z.copy(), y, w)

    analytic = z0.copy()
    head.loss_and_grad(analytic, y, w)
    assert relative_error(analytic, factor * numerical_gradient(loss, z0)) < 1e-6


@pytest.mark.parametrize("head, n_outputs, kwargs", [
    (IdentitySquaredError(), 1, {"alpha": 0.3}),
    (ExpPoissonDeviance(), 2, {"alpha": 0.1}),
    (IdentitySquaredError(), 1, {"sample_weight": np.linspace(0.1, 2, 12)}),
])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_whole_network_gradient(head, n_outputs, kwargs, batch_norm):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 5))
    Y = rng.poisson(1.5, size=(12, n_outputs)).astype(float)
    net = Network.mlp([5, 4, 3, n_outputs], "tanh", head, np.float64, batch_norm=batch_norm)
    net.initialize(np.random.RandomState(1))
    ws = net.workspace(len(X))

    def loss(theta):
        net.params[...] = theta
        return net.loss_and_grad(X, Y, ws, **kwargs)

    theta = net.params.copy()
    loss(theta)
    analytic = net.grads.copy()
    assert relative_error(analytic, numerical_gradient(loss, theta)) < 1e-6


# --------------------------------------------------------------- behaviour
def _sklearn_stopping_epoch(scores, tol, patience):
    """Epoch (1-based) at which scikit-learn's early-stopping rule stops."""
    best, count = -np.inf, 0
    for epoch, score in enumerate(scores, 1):
        count = count + 1 if score < best + tol else 0
        best = max(best, score)
        if count > patience:
            return epoch
    return None


def test_early_stopping_on_validation_r2(monkeypatch, diabetes):
    X, y = diabetes
    held_out = {}
    split = MLPScratchRegressor._split_validation

    def spy(self, *args):
        result = split(self, *args)
        held_out["val"] = result[3]
        return result

    monkeypatch.setattr(MLPScratchRegressor, "_split_validation", spy)
    est = MLPScratchRegressor(hidden_layer_sizes=(20,), early_stopping=True,
                              learning_rate_init=0.01, max_iter=300,
                              n_iter_no_change=5, random_state=0).fit(X, y)
    X_val, Y_val, _ = held_out["val"]
    scores = est.validation_scores_
    assert est.n_iter_ < 300
    assert est.n_iter_ == _sklearn_stopping_epoch(scores, est.tol, 5)
    assert est.best_validation_score_ == max(scores)
    # The weights restored are the best epoch's: their R^2 on the held-out part is it.
    assert r2_score(Y_val.ravel(), est.predict(X_val)) == pytest.approx(max(scores))
    assert len(est.validation_loss_curve_) == est.n_iter_ == len(est.loss_curve_)
    best = int(np.argmax(scores))
    half_mse = 0.5 * np.mean((est.predict(X_val) - Y_val.ravel()) ** 2)
    assert est.validation_loss_curve_[best] == pytest.approx(half_mse)


def test_partial_fit_streams(diabetes):
    X, y = diabetes
    est = MLPScratchRegressor(hidden_layer_sizes=(20,), learning_rate_init=0.01,
                              random_state=0)
    for _ in range(30):
        for rows in np.array_split(np.arange(len(y)), 5):
            est.partial_fit(X[rows], y[rows])
    assert len(est.loss_curve_) == 150 and est.score(X, y) > 0.5
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPScratchRegressor(early_stopping=True).partial_fit(X, y)
    assert not hasattr(MLPScratchRegressor(solver="lbfgs"), "partial_fit")


def test_warm_start_continues(diabetes):
    X, y = diabetes
    est = MLPScratchRegressor(hidden_layer_sizes=(20,), max_iter=5, warm_start=True,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        first = est.loss_
        est.fit(X, y)
    assert est.loss_ < first and len(est.loss_curve_) == 10
    with pytest.raises(ValueError, match="warm_start=False"):
        est.fit(X, np.c_[y, y])  # two outputs do not fit a network of one


def test_multioutput(diabetes):
    X, y = diabetes
    Y = np.c_[y, -y, y**2]
    est = MLPScratchRegressor(hidden_layer_sizes=(30,), solver="lbfgs", max_iter=200,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y)
    assert est.predict(X).shape == (len(X), 3)
    assert est.score(X, Y) > 0.6
    assert est.predict(X[:1]).ndim == 2
    single = MLPScratchRegressor(hidden_layer_sizes=(5,), max_iter=2).fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert single(X, y[:, None]).predict(X).shape == (len(X),)  # (n, 1) -> (n,)


def test_poisson_predicts_positive_and_refuses_negative_targets(diabetes):
    X, y = diabetes
    est = MLPScratchRegressor(loss="poisson", hidden_layer_sizes=(10,), solver="lbfgs",
                              max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, np.exp(y))
    assert est.out_activation_ == "exp" and np.all(est.predict(X) > 0)
    with pytest.raises(ValueError, match="non-negative"):
        est.fit(X, y)


def test_float32_is_preserved(diabetes):
    X, y = diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPScratchRegressor(hidden_layer_sizes=(10,), max_iter=20,
                                  random_state=0).fit(X.astype(np.float32), y)
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    assert est.coefs_[0].dtype == np.float32


MODERN = [
    pytest.param({"activation": act}, id=act)
    for act in ["leaky_relu", "elu", "gelu", "silu", "logistic", "identity"]
] + [
    pytest.param({"solver": "adamw", "weight_decay": 1e-3}, id="adamw"),
    pytest.param({"solver": "rmsprop", "beta_2": 0.9}, id="rmsprop"),
    pytest.param({"learning_rate": "cosine", "warmup_iter": 5}, id="cosine-warmup"),
    pytest.param({"learning_rate": "exponential"}, id="exponential"),
    pytest.param({"dropout": 0.1}, id="dropout"),
    pytest.param({"batch_norm": True}, id="batch_norm"),
    pytest.param({"clip_grad_norm": 1.0}, id="clip_grad_norm"),
    pytest.param({"weight_init": "he_normal"}, id="he_normal"),
    pytest.param({"early_stopping": True, "validation_fraction": 0.2}, id="early_stop"),
    pytest.param({"loss": "poisson", "solver": "adamw", "batch_norm": True,
                  "dropout": 0.05}, id="poisson-combined"),
]


@pytest.mark.parametrize("params", MODERN)
def test_modern_options_train(diabetes, params):
    X, y = diabetes
    target = np.exp(y) if params.get("loss") == "poisson" else y
    est = MLPScratchRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                              max_iter=150, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, target)
    assert est.score(X, target) > 0.4
    if params.get("early_stopping"):
        assert len(est.validation_loss_curve_) == est.n_iter_
        assert np.all(np.isfinite(est.validation_loss_curve_))
    else:
        assert est.validation_loss_curve_ is None
    np.testing.assert_array_equal(est.predict(X), est.predict(X))  # no dropout at predict


def test_regressor_has_no_classification_parameters():
    params = MLPScratchRegressor().get_params()
    assert "class_weight" not in params and "label_smoothing" not in params


def test_callbacks_score_r2_each_epoch(diabetes):
    callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")
    X, y = diabetes
    monitor = callback.ScoringMonitor(scoring="r2")
    est = MLPScratchRegressor(hidden_layer_sizes=(16,), max_iter=6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(monitor).fit(X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == est.n_iter_ == 6
    assert rows[-1]["r2"] == pytest.approx(est.score(X, y))


def test_loss_curve_display(diabetes):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from sknumpy_mlp.plotting import LossCurveDisplay

    X, y = diabetes
    est = MLPScratchRegressor(hidden_layer_sizes=(16,), max_iter=30, early_stopping=True,
                              n_iter_no_change=3, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(est)
    np.testing.assert_array_equal(display.line_.get_ydata(), est.loss_curve_)
    assert display.validation_loss_line_ is not None
    np.testing.assert_array_equal(display.validation_loss_line_.get_ydata(),
                                  est.validation_loss_curve_)
