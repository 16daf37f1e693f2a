"""BaseMLPScratch: what the classifier and the regressor share.

Parameters and their constraints, input validation, the network set-up, the L-BFGS and
stochastic fits, partial_fit, callbacks and pickling. A subclass says what its target
is through a few hooks (``_encode_target``, ``_make_head``, ``_strata``, ...): label
encoding, class weights and probabilities live in :mod:`._estimator`, real-valued
targets in :mod:`._regressor`. Nothing here knows about classes or R^2; the head
(:mod:`._losses`, :mod:`._regression_losses`) knows its own score and loss.
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._callbacks import CallbackReporter, CallbackSupportMixin, has_callbacks
from ._handlers import standard_handlers
from ._initializers import INITIALIZERS
from ._lbfgs import fit_lbfgs
from ._network import Network
from ._optimizers import SOLVERS, make_optimizer
from ._progress import make_reporter
from ._sampling import holdout_split
from ._schedules import LEARNING_RATES, LearningRate
from ._training import History, StochasticTrainer, StoppingRule, TrainingConfig
from ._validation import WEIGHT_HINTS, explained_input_errors, restored_on_error

STOCHASTIC_SOLVERS = tuple(name for name, solver in SOLVERS.items() if solver.stochastic)

#: Constraints of the parameters both estimators have (scikit-learn's and ours).
SHARED_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "solver": [StrOptions(set(SOLVERS))],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions(set(LEARNING_RATES))],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                         Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "warmup_iter": [Interval(Integral, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
    "batch_norm": ["boolean"],
    "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    "weight_init": [StrOptions(set(INITIALIZERS))],
}


class _Prepared(NamedTuple):
    """What training needs once every check has passed."""

    X: object
    Y: np.ndarray
    sample_weight: object
    validation: tuple  # (X_val, Y_val, sw_val) with early stopping, else None
    rng: np.random.RandomState
    batch_size: int


class BaseMLPScratch(CallbackSupportMixin, BaseEstimator):
    """Base of :class:`MLPScratchClassifier` and :class:`MLPScratchRegressor`.

    Subclasses define ``__init__`` (their own signature, for ``get_params``), pass the
    shared parameters to this one, and implement the target hooks below.
    """

    _parameter_constraints: dict = dict(SHARED_CONSTRAINTS)
    _y_numeric = False  # validate_data's y_numeric (True for the regressor)

    def __init__(self, hidden_layer_sizes, activation, *, solver, alpha, batch_size,
                 learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                 random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                 early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                 n_iter_no_change, max_fun, weight_decay, warmup_iter, dropout,
                 batch_norm, clip_grad_norm, weight_init):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.weight_decay = weight_decay
        self.warmup_iter = warmup_iter
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.clip_grad_norm = clip_grad_norm
        self.weight_init = weight_init

    # ------------------------------------------------------------ target hooks
    def _before_validation(self, y, incremental, classes):
        """Called first in every fit (the classifier reads ``classes`` here)."""

    def _encode_target(self, y, incremental, dtype):
        """Return ``(Y, labels)``: the 2-D training target and the target as given."""
        raise NotImplementedError

    def _check_weighted_target(self, labels, sample_weight, incremental):
        """Refuse a target that the sample weights make degenerate (classifier)."""

    def _extra_weights(self, sample_weight, labels, dtype):
        """Per-sample factors multiplied into ``sample_weight`` (class weights)."""
        return sample_weight

    def _make_head(self, Y):
        """Set ``out_activation_`` and return the output head for ``Y``."""
        raise NotImplementedError

    def _strata(self, labels, Y):
        """Strata of the early-stopping split, or None (the regressor's)."""
        return None

    def _break_ties(self):
        """Whether the stopping rule breaks score ties by validation loss."""
        return False

    def _label_smoothing(self):
        return 0.0

    def _callback_target(self, Y):
        """The target as callbacks score on it (labels, or values)."""
        raise NotImplementedError

    # ----------------------------------------------------------- validation
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(not isinstance(s, Integral | np.integer) or isinstance(s, bool | np.bool_)
               or s <= 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers (one per hidden layer), got "
                f"{self.hidden_layer_sizes!r}; e.g. hidden_layer_sizes=(100,) for one "
                "hidden layer of 100 units.")
        return [int(s) for s in sizes]

    def _dropout_rates(self, n_hidden):
        try:
            rates = np.atleast_1d(np.asarray(self.dropout, dtype=float))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"dropout must be a float or a list of floats (one per "
                             f"hidden layer), got {self.dropout!r}.") from exc
        if rates.ndim != 1 or rates.size not in (1, n_hidden):
            raise ValueError(f"dropout must be a float or one rate per hidden layer "
                             f"({n_hidden}), got {self.dropout!r}.")
        if not np.all((rates >= 0) & (rates < 1)):
            raise ValueError(f"dropout rates must be in [0, 1) (1 would drop every unit), "
                             f"got {self.dropout!r}.")
        if self.solver == "lbfgs" and np.any(rates > 0):
            first, *others = STOCHASTIC_SOLVERS
            raise ValueError("dropout needs a stochastic solver: its random masks make "
                             "the objective noisy, which L-BFGS cannot handle. Use "
                             f"solver={first!r} (or {', '.join(map(repr, others))}).")
        return list(np.broadcast_to(rates, (n_hidden,)))

    def _validate_input(self, X, y, incremental, reset):
        if (self.early_stopping and self.validation_fraction == 0 and not incremental
                and self.solver != "lbfgs"):
            raise ValueError("early_stopping=True holds out validation_fraction of the "
                             "data, which is 0: set validation_fraction in (0, 1), e.g. "
                             "0.1, or early_stopping=False.")
        with explained_input_errors():
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                                 multi_output=True, y_numeric=self._y_numeric,
                                 dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y, labels = self._encode_target(y, incremental, X.dtype)
        return X, Y, labels

    def _sample_weight(self, sample_weight, X, labels):
        if sample_weight is not None:
            with explained_input_errors(WEIGHT_HINTS):
                sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                                     ensure_non_negative=True)
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must have at least one positive entry; "
                                 "got all zeros.")
        return self._extra_weights(sample_weight, labels, X.dtype)

    def _batch_size(self, n):
        if self.solver == "lbfgs":
            size = n
        elif self.batch_size == "auto":
            size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                              "It is going to be clipped")
            size = int(np.clip(self.batch_size, 1, n))
        if self.batch_norm and size < 2:
            # As PyTorch refuses it: one sample has no batch variance, so batch norm maps
            # every unit to its shift beta and no gradient reaches the layers below.
            raise ValueError(
                f"batch_norm=True needs minibatches of at least 2 samples, but this "
                f"{'call' if n == 1 else 'fit'} has batches of 1 (batch_size="
                f"{self.batch_size!r}, {n} sample{'s' if n > 1 else ''}): a single "
                "sample has no batch statistics and nothing would be learned. Use "
                "batch_size >= 2 (e.g. 32) and at least 2 samples per call, or "
                "batch_norm=False.")
        return size

    # ---------------------------------------------------------------- fitting
    def _initialize(self, Y, layer_units, dtype, rng):
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        head = self._make_head(Y)
        self._network = Network.mlp(layer_units, self.activation, head, dtype,
                                    batch_norm=self.batch_norm,
                                    dropout=self._dropout_rates(len(layer_units) - 2))
        self._network.initialize(rng, self.weight_init, self.activation)
        self._history = History(early_stopping=self.early_stopping
                                and self.solver != "lbfgs")
        self.t_ = 0

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        with restored_on_error(self):
            prepared = self._prepare(X, y, sample_weight, incremental, classes)
        net = self._network
        reporter = make_reporter(self.verbose)
        if has_callbacks(self):  # scikit-learn >= 1.9, set_callbacks or a Pipeline's
            reporter = CallbackReporter(
                self, reporter, prepared.X, lambda: self._callback_target(prepared.Y),
                prepared.sample_weight, 1 if incremental else self.max_iter, net,
                task_name="iteration" if self.solver == "lbfgs" else "epoch")
        try:
            if self.solver == "lbfgs":
                self._fit_lbfgs(prepared, reporter)
            else:
                self._fit_stochastic(prepared, reporter, incremental)
        finally:
            # Training changes the network in place: even when it fails midway (a
            # warning turned into an error, MemoryError), the fitted attributes
            # describe the weights it left.
            self.coefs_, self.intercepts_ = net.coefs, net.intercepts
        if not np.all(np.isfinite(net.params)):
            raise ValueError("Solver produced non-finite parameter weights. The input "
                             "data may contain large values and need to be preprocessed.")
        if isinstance(reporter, CallbackReporter):
            reporter.fit_end()
        return self

    def _prepare(self, X, y, sample_weight, incremental, classes):
        """Check everything, set the target and the network up; train nothing.

        Runs under :func:`restored_on_error`: until every check has passed, nothing a
        previous fit left is changed, so a call that fails here leaves the estimator
        exactly as it was.
        """
        hidden = self._hidden_sizes()
        if self.early_stopping and incremental:
            # scikit-learn's words first: code written for it matches on them.
            raise ValueError("partial_fit does not support early_stopping=True: a single "
                             "pass has no epochs to stop early. Set early_stopping=False "
                             "to train incrementally.")
        self._before_validation(y, incremental, classes)
        first_pass = (not hasattr(self, "coefs_")
                      or (not self.warm_start and not incremental))
        X, Y, labels = self._validate_input(X, y, incremental, reset=first_pass)
        sample_weight = self._sample_weight(sample_weight, X, labels)
        self._check_weighted_target(labels, sample_weight, incremental)
        layer_units = [X.shape[1], *hidden, Y.shape[1]]
        self._dropout_rates(len(hidden))
        if not first_pass and layer_units != self._network.layer_units:
            raise ValueError(
                f"The network has layers {self._network.layer_units}, but the new "
                f"settings ask for {layer_units}; set warm_start=False to refit.")
        rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize(Y, layer_units, X.dtype, rng)
        else:
            self._network.set_weights(self.coefs_, self.intercepts_)
            X = X.astype(self._network.dtype, copy=False)
            Y = Y.astype(self._network.dtype, copy=False) if Y.dtype.kind == "f" else Y
        validation = None
        if self.early_stopping and self.solver != "lbfgs":
            X, Y, sample_weight, validation = self._split_validation(
                X, Y, labels, sample_weight, rng)
        return _Prepared(X, Y, sample_weight, validation, rng, self._batch_size(X.shape[0]))

    def _fit_lbfgs(self, prepared, reporter):
        self.n_iter_, self.loss_, self.loss_curve_ = fit_lbfgs(
            self._network, prepared.X, prepared.Y, prepared.sample_weight,
            alpha=self.alpha, label_smoothing=self._label_smoothing(),
            max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol, reporter=reporter)

    def _fit_stochastic(self, prepared, reporter, incremental):
        net = self._network
        if not incremental or not hasattr(self, "_optimizer"):
            reads = {name: getattr(self, name) for name in SOLVERS[self.solver].parameters}
            self._optimizer = make_optimizer(self.solver, net.params.size, net.dtype,
                                             n_decay=net.n_coef, **reads)
            self._learning_rate = LearningRate(
                self.learning_rate, self.learning_rate_init, solver=self.solver,
                power_t=self.power_t, max_iter=self.max_iter, warmup_iter=self.warmup_iter)
        rng = prepared.rng
        stopping = StoppingRule(self.tol, self.n_iter_no_change,
                                break_ties=self._break_ties())
        config = TrainingConfig(
            batch_size=prepared.batch_size, max_iter=self.max_iter, shuffle=self.shuffle,
            alpha=self.alpha, label_smoothing=self._label_smoothing(),
            clip_grad_norm=self.clip_grad_norm,
            dropout_salt=rng.randint(np.iinfo(np.int32).max) if any(net.dropout) else 0)
        trainer = StochasticTrainer(
            net, self._optimizer, self._learning_rate, config, rng=rng,
            handlers=standard_handlers(stopping, self._learning_rate, reporter))
        history = self._history
        history.t = self.t_
        try:
            trainer.fit(prepared.X, prepared.Y, prepared.sample_weight, history,
                        prepared.validation, incremental)
        finally:
            self._record(history)

    def _record(self, history):
        """Copy the training history into scikit-learn's fitted attributes."""
        self.n_iter_, self.t_ = history.n_iter, history.t
        self.loss_curve_ = history.loss_curve
        if history.loss_curve:
            self.loss_ = history.loss_curve[-1]
        self.best_loss_ = history.best_loss
        self.validation_scores_ = history.validation_scores
        self.validation_loss_curve_ = history.validation_losses
        self.best_validation_score_ = history.best_validation_score
        self._no_improvement_count = history.no_improvement_count

    def _split_validation(self, X, Y, labels, sample_weight, rng):
        """Hold out ``validation_fraction`` for early stopping (see :mod:`._sampling`).

        Stratified as the subclass says (by class, or not at all), measured in sample
        weight, with duplicate rows kept on one side; seeded by ``random_state``.
        """
        strata = self._strata(labels, Y)
        salt = rng.randint(np.iinfo(np.int32).max)
        train, val = holdout_split(X, strata, sample_weight, self.validation_fraction, salt)
        if val.size < 2:
            n = X.shape[0]
            raise ValueError("The validation set is too small. Increase "
                             "'validation_fraction' or the size of your dataset "
                             f"({n} sample{'s' if n != 1 else ''}, {val.size} held out).")
        sw_tr, sw_val = ((None, None) if sample_weight is None
                         else (sample_weight[train], sample_weight[val]))
        return X[train], Y[train], sw_tr, (X[val], Y[val], sw_val)

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError("partial_fit is only available for stochastic "
                                 f"optimizers. {self.solver} is not stochastic.")
        return True

    def _partial_fit(self, X, y, sample_weight=None, classes=None):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
        return self._fit(X, y, sample_weight=sample_weight, incremental=True,
                         classes=classes)

    # ------------------------------------------------------------- predicting
    def _forward(self, X):
        # check_is_fitted(self) alone is fooled by the n_features_in_ that a fit failing
        # in validation leaves behind.
        check_is_fitted(self, "coefs_")
        with explained_input_errors():
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        with np.errstate(over="ignore", invalid="ignore"):
            output = self._network.predict_output(X, self.coefs_, self.intercepts_)
        finite = np.isfinite(output).all(axis=1)
        if not finite.all():
            raise ValueError(
                f"The network's outputs overflowed (are not finite) for "
                f"{np.count_nonzero(~finite)} of {len(finite)} samples: their features "
                "are far larger than the learned weights can handle. Scale the inputs "
                "as during fit, e.g. with a StandardScaler in a Pipeline.")
        return output

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        state = super().__getstate__()
        if "_network" in state and "coefs_" in state:  # (not yet set during a 1st fit)
            # coefs_/intercepts_ are views of the network buffer; store the buffer once.
            self._network.set_weights(self.coefs_, self.intercepts_)
            state = dict(state)
            state.pop("coefs_", None)
            state.pop("intercepts_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_network" in state:
            self.coefs_, self.intercepts_ = self._network.coefs, self._network.intercepts

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
