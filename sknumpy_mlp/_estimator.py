"""MLPScratchClassifier: scikit-learn's MLPClassifier over a hand-written NumPy core.

This module holds the estimator only: parameters, validation, label encoding and the
fit/partial_fit/predict plumbing. It turns strings ("adam", "relu") into objects once per
fit and hands arrays to :mod:`._training`; the math lives in the modules below it.
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._activations import ACTIVATIONS
from ._callbacks import CallbackReporter, CallbackSupportMixin, has_callbacks
from ._class_weight import class_weight_factors
from ._initializers import INITIALIZERS
from ._lbfgs import fit_lbfgs
from ._losses import get_loss
from ._network import Network
from ._optimizers import make_optimizer
from ._progress import make_reporter
from ._sampling import holdout_split
from ._schedules import LearningRate
from ._training import History, StochasticTrainer, StoppingRule
from ._validation import (
    WEIGHT_HINTS,
    check_class_weight_values,
    check_label_type,
    check_label_values,
    explained_input_errors,
    restored_on_error,
)

_STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop")


class _Prepared(NamedTuple):
    """What training needs once every check has passed."""

    X: object
    Y: np.ndarray
    sample_weight: object
    validation: tuple  # (X_val, Y_val, sw_val) with early stopping, else None
    rng: np.random.RandomState
    batch_size: int


def _check_stratifiable(labels, Y):
    """Refuse a stratified hold-out when a class has a single sample, as scikit-learn.

    scikit-learn stratifies binary targets only, on the binarized target, and names the
    classes by its rows (``'True'`` for the positive class); its words come first, so
    that code matching on them keeps working, then the labels themselves. Multiclass
    targets, which scikit-learn does not stratify, are not refused: the holdout keeps
    such a sample in training (see :func:`._sampling.holdout_split`).
    """
    classes, first, counts = np.unique(labels, return_index=True, return_counts=True)
    single = counts < 2
    if not single.any():
        return
    rows = [" ".join(row.astype(str)) for row in Y[first[single]]]
    raise ValueError(
        "The least populated classes in y have only 1 member, which is too few. The "
        "minimum number of groups for any class cannot be less than 2. Classes with too "
        f"few members are: {rows} (scikit-learn's names: rows of the binarized y), that "
        f"is the classes {classes[single].tolist()!r}. early_stopping=True holds out a "
        "validation set stratified by class, and a class of 1 sample cannot be on both "
        "sides of it: collect more samples of these classes, drop them, or set "
        "early_stopping=False.")


class MLPScratchClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier, backpropagation written by hand in NumPy.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the same
    parameters, defaults, fitted attributes and methods, plus what scikit-learn's MLP
    does not offer (dropout, batch normalization, more activations, AdamW and RMSProp,
    cosine and exponential schedules with warm-up, class weights, label smoothing and
    gradient clipping). With the new parameters at their defaults it trains exactly as
    scikit-learn does: same initialization, same minibatches, same updates.

    All parameters live in one flat buffer that ``coefs_`` and ``intercepts_`` are views
    of, so an optimizer step is a few in-place vector operations; pass float32 data for
    speed (float64 stays float64, as in scikit-learn).

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', \
'gelu', 'silu'}, default='relu'
        Activation of the hidden layers. The first four are scikit-learn's;
        ``leaky_relu`` (slope 0.01), ``elu`` (alpha 1), ``gelu`` (exact erf form) and
        ``silu`` are ours.

    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop'}, default='adam'
        Weight optimizer. ``lbfgs`` runs scipy's L-BFGS-B on our analytic loss and
        gradient; ``sgd`` with momentum/Nesterov; ``adam`` with bias correction;
        ``adamw`` is Adam with decoupled weight decay (``weight_decay``); ``rmsprop``
        uses ``beta_2`` as its decay rate.

    alpha : float, default=0.0001
        Strength of the L2 penalty, scaled by the sum of sample weights of the batch
        as in scikit-learn.

    batch_size : int or 'auto', default='auto'
        Minibatch size for the stochastic solvers; 'auto' is ``min(200, n_samples)``.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine', \
'exponential'}, default='constant'
        Schedule. 'invscaling' and 'adaptive' act for ``solver='sgd'`` only, as in
        scikit-learn. 'cosine' decays to 0 over ``max_iter`` epochs and 'exponential'
        to 1% of ``learning_rate_init``; both apply to every stochastic solver and are
        evaluated at every minibatch.

    learning_rate_init : float, default=0.001
        Initial learning rate of the stochastic solvers.

    power_t : float, default=0.5
        Exponent of 'invscaling'.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initialization, the shuffles, the early-stopping split and the dropout
        masks. An int gives bit-identical results from run to run.

    tol : float, default=1e-4
        Tolerance of the stopping rule.

    verbose : bool or int, default=False
        Whether to print progress messages to stdout, as in scikit-learn: any truthy
        value prints its lines (``Iteration N, loss = ...``, stopping messages).

    warm_start : bool, default=False
        Reuse the previous solution as the initialization of the next ``fit``.

    momentum : float, default=0.9
        Momentum of 'sgd'.

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified by class) and
        stop when the validation accuracy stops improving; the best weights are
        restored. Unlike scikit-learn, which stratifies binary problems only, we
        stratify multiclass problems too (not multilabel ones). As in scikit-learn, a
        binary target with a class of a single sample is refused; in a multiclass
        one, such a sample stays in training.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay of the first-moment estimate (adam, adamw).

    beta_2 : float, default=0.999
        Decay of the second-moment estimate (adam, adamw, rmsprop).

    epsilon : float, default=1e-8
        Numerical stability constant of adam, adamw and rmsprop.

    n_iter_no_change : int, default=10
        Patience of the stopping rule, in epochs.

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.

    weight_decay : float, default=0.01
        Decoupled weight decay of 'adamw' (applied to the weights, not the biases).

    warmup_iter : int, default=0
        Number of epochs of linear learning-rate warm-up (stochastic solvers).

    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Inverted-dropout rate after each hidden layer (one value for all, or one per
        layer), in [0, 1). Active in training only; needs a stochastic solver.

    batch_norm : bool, default=False
        Batch normalization after each hidden affine layer; running statistics are
        used at predict time, so a sample's prediction does not depend on its batch.
        Needs batches of at least 2 samples (``batch_size=1`` is refused, as in
        PyTorch); a trailing batch of a single sample joins the batch before it.

    class_weight : dict, list of dicts, 'balanced' or None, default=None
        Weights of the classes, as in scikit-learn's other classifiers; multiplied into
        ``sample_weight``. 'balanced' uses ``n_samples / (n_classes * count)``; for
        multilabel targets use 'balanced' or one dict per output.

    label_smoothing : float, default=0.0
        Mix the one-hot targets with the uniform distribution: ``y(1-e) + e/K``.

    clip_grad_norm : float or None, default=None
        Rescale the whole gradient when its global L2 norm exceeds this value.

    weight_init : {'auto', 'glorot_uniform', 'he_normal', 'he_uniform'}, default='auto'
        'auto' is scikit-learn's scheme (Glorot-uniform weights and biases).

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels.
    loss_ : float
        The current loss computed with the loss function.
    best_loss_ : float or None
        Minimum training loss reached (None when early stopping is on).
    loss_curve_ : list of shape (n_iter_,)
        Training loss after each epoch. Also recorded for 'lbfgs' (one value per
        L-BFGS iteration), where scikit-learn leaves it unset.
    validation_scores_ : list of shape (n_iter_,) or None
        Validation accuracy after each epoch when early stopping is on.
    validation_loss_curve_ : list of shape (n_iter_,) or None
        Validation log-loss after each epoch when early stopping is on.
    best_validation_score_ : float or None
        Best validation accuracy when early stopping is on.
    t_ : int
        Number of training samples seen by the solver.
    coefs_ : list of shape (n_layers - 1,)
        Weight matrices, views into one flat parameter buffer.
    intercepts_ : list of shape (n_layers - 1,)
        Bias vectors, views into the same buffer.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when they are all strings.
    n_iter_ : int
        Number of iterations the solver ran in the last call.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation ('softmax' or 'logistic').

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.

    References
    ----------
    .. [1] Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of training
       deep feedforward neural networks. AISTATS.
    .. [2] Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic optimization.
       ICLR.
    .. [3] Loshchilov, I. and Hutter, F. (2019). Decoupled weight decay regularization.
       ICLR.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sknumpy_mlp import MLPScratchClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = MLPScratchClassifier(random_state=0, max_iter=300).fit(X_train, y_train)
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    >>> round(clf.score(X_test, y_test), 2) > 0.95
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", *_STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine",
                                      "exponential"})],
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
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "weight_init": [StrOptions(set(INITIALIZERS))],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        weight_decay=0.01,
        warmup_iter=0,
        dropout=0.0,
        batch_norm=False,
        class_weight=None,
        label_smoothing=0.0,
        clip_grad_norm=None,
        weight_init="auto",
    ):
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
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.clip_grad_norm = clip_grad_norm
        self.weight_init = weight_init

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
            raise ValueError("dropout needs a stochastic solver: its random masks make "
                             "the objective noisy, which L-BFGS cannot handle. Use "
                             "solver='adam' (or 'sgd', 'adamw', 'rmsprop').")
        return list(np.broadcast_to(rates, (n_hidden,)))

    def _validate_input(self, X, y, incremental, reset):
        if (self.early_stopping and self.validation_fraction == 0 and not incremental
                and self.solver != "lbfgs"):
            raise ValueError("early_stopping=True holds out validation_fraction of the "
                             "data, which is 0: set validation_fraction in (0, 1), e.g. "
                             "0.1, or early_stopping=False.")
        with explained_input_errors():
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                                 multi_output=True, dtype=(np.float64, np.float32),
                                 reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_label_values(y)
        try:
            Y = self._encode_labels(y, incremental)
        except ValueError:
            check_label_type(y)
            raise
        return X, Y, y

    def _encode_labels(self, y, incremental):
        """Fit or check ``classes_`` against ``y``; return the indicator matrix."""
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            # Check before assigning: a failed refit must not pair new classes with the
            # previous fit's weights.
            # A single class is fitted as scikit-learn fits it: LabelBinarizer gives
            # one all-zero column, the output is logistic, every prediction is that class.
            binarizer = LabelBinarizer().fit(y)
            self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as "
                        f"in the previous call to fit. Previously got {self.classes_}, "
                        f"`y` has {classes}. Set warm_start=False to train afresh.")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}. Pass every class in the first "
                    "call to partial_fit through `classes`.")
        return self._label_binarizer.transform(y).astype(bool)

    def _sample_weight(self, sample_weight, X, labels):
        if sample_weight is not None:
            with explained_input_errors(WEIGHT_HINTS):
                sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                                     ensure_non_negative=True)
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must have at least one positive entry; "
                                 "got all zeros.")
        if self.class_weight is None:
            return sample_weight
        check_class_weight_values(self.class_weight)
        factors = class_weight_factors(self.class_weight, labels, self.classes_,
                                       sample_weight).astype(X.dtype)
        weights = factors if sample_weight is None else sample_weight * factors
        if not np.any(weights > 0):
            raise ValueError("sample_weight and class_weight together give every sample "
                             "a weight of 0; give some classes a positive weight.")
        return weights

    # ---------------------------------------------------------------- fitting
    def _initialize(self, Y, layer_units, dtype, rng):
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
        logistic = multilabel or self.n_outputs_ == 1
        self.out_activation_ = "logistic" if logistic else "softmax"
        head = get_loss(self.n_outputs_, multilabel)
        self._network = Network(layer_units, self.activation, head, dtype,
                                batch_norm=self.batch_norm,
                                dropout=self._dropout_rates(len(layer_units) - 2))
        self._network.initialize(rng, self.weight_init)
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
                self, reporter, prepared.X, lambda: self._labels_of(prepared.Y),
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

    def _labels_of(self, Y):
        """The labels an indicator matrix ``Y`` encodes (what callbacks score on)."""
        return self._label_binarizer.inverse_transform(Y.astype(float))

    def _prepare(self, X, y, sample_weight, incremental, classes):
        """Check everything, set the labels and the network up; train nothing.

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
        if incremental and _check_partial_fit_first_call(self, classes):
            self._label_binarizer = self._partial_fit_binarizer(y)
        first_pass = (not hasattr(self, "coefs_")
                      or (not self.warm_start and not incremental))
        X, Y, labels = self._validate_input(X, y, incremental, reset=first_pass)
        sample_weight = self._sample_weight(sample_weight, X, labels)
        if not incremental and sample_weight is not None and labels.ndim == 1:
            weighted = np.unique(labels[sample_weight > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "Only one class has positive sample_weight "
                    f"({weighted[0]!r}); a classifier needs at least 2 classes to learn "
                    "from. Give samples of another class a positive weight.")
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
        validation = None
        if self.early_stopping and self.solver != "lbfgs":
            X, Y, sample_weight, validation = self._split_validation(
                X, Y, labels, sample_weight, rng)
        return _Prepared(X, Y, sample_weight, validation, rng, self._batch_size(X.shape[0]))

    def _partial_fit_binarizer(self, y):
        """The label binarizer of a first ``partial_fit`` call, from ``classes_``."""
        binarizer = LabelBinarizer()
        if type_of_target(y).startswith("multilabel"):
            return binarizer.fit(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"classes must list at least 2 classes, got {self.classes_.tolist()!r}: "
                "pass every class the stream can contain on the first call.")
        return binarizer.fit(self.classes_)

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

    def _fit_lbfgs(self, prepared, reporter):
        self.n_iter_, self.loss_, self.loss_curve_ = fit_lbfgs(
            self._network, prepared.X, prepared.Y, prepared.sample_weight,
            alpha=self.alpha, label_smoothing=self.label_smoothing,
            max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol, reporter=reporter)

    def _fit_stochastic(self, prepared, reporter, incremental):
        net = self._network
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(
                self.solver, net.params.size, net.dtype, momentum=self.momentum,
                nesterovs_momentum=self.nesterovs_momentum, beta_1=self.beta_1,
                beta_2=self.beta_2, epsilon=self.epsilon, weight_decay=self.weight_decay,
                n_decay=net.n_coef)
            self._learning_rate = LearningRate(
                self.learning_rate, self.learning_rate_init, solver=self.solver,
                power_t=self.power_t, max_iter=self.max_iter, warmup_iter=self.warmup_iter)
        rng = prepared.rng
        trainer = StochasticTrainer(
            net, self._optimizer, self._learning_rate,
            StoppingRule(self.tol, self.n_iter_no_change,
                         break_ties=len(self.classes_) > 1),
            batch_size=prepared.batch_size, shuffle=self.shuffle, rng=rng,
            alpha=self.alpha, label_smoothing=self.label_smoothing,
            clip_grad_norm=self.clip_grad_norm, max_iter=self.max_iter, reporter=reporter,
            dropout_salt=rng.randint(np.iinfo(np.int32).max) if any(net.dropout) else 0)
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

        Stratified by class (except multilabel), measured in sample weight, with
        duplicate rows kept on one side; seeded by ``random_state``.
        """
        strata = labels if labels.ndim == 1 else None
        if strata is not None and Y.shape[1] == 1:  # where scikit-learn stratifies
            _check_stratifiable(strata, Y)
        salt = rng.randint(np.iinfo(np.int32).max)
        train, val = holdout_split(X, strata, sample_weight, self.validation_fraction, salt)
        if val.size < 2:
            raise ValueError("The validation set is too small. Increase "
                             "'validation_fraction' or the size of your dataset.")
        sw_tr, sw_val = ((None, None) if sample_weight is None
                         else (sample_weight[train], sample_weight[val]))
        return X[train], Y[train], sw_tr, (X[val], Y[val], sw_val)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a label indicator matrix for multilabel problems.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, non-negative.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError("partial_fit is only available for stochastic "
                                 f"optimizers. {self.solver} is not stochastic.")
        return True

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array-like of shape (n_classes,), default=None
            All the classes, required on the first call; ``y`` of later calls need not
            contain all of them.

        Returns
        -------
        self : object
            The updated estimator.
        """
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

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """Log of the probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        y_prob = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(y_prob, out=y_prob)

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
        tags.classifier_tags.multi_label = True
        return tags
