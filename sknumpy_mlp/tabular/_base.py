"""What the tabular classifier and regressor share: the table in, the network, the fit.

The estimator owns its preprocessing (:class:`TabularPreprocessor`), so it takes a
DataFrame as ``HistGradientBoostingClassifier`` does; it then builds the RealMLP-TD
network on the layer protocol, initializes it from the data and trains it with
:class:`~._training.TabularTrainer`. Subclasses say how the target is encoded, which head
and loss it trains, and how a validation epoch is scored.
"""

import threading
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
)

from .._activations import ACTIVATIONS
from .._callbacks import CallbackSupportMixin, has_callbacks
from .._layers import ActivationLayer, Dropout
from .._network import Network
from .._sampling import holdout_split
from ._callbacks import TabularCallbacks
from ._embeddings import CategoryEmbedding, PeriodicEmbedding
from ._inference import predict_ensemble
from ._layers import DataDense, ParametricActivation, Scale
from ._preprocessing import SavedBeforeMixin, TabularPreprocessor, check_table
from ._threads import available_threads, run_members
from ._training import TabularTrainer

#: Multiply-adds (rows x epochs x the affine layers' n_in * n_out, over all members) a
#: fit may spend with "auto" settings: about 40 s on two cores. Small tables get an
#: ensemble of ``MAX_MEMBERS`` networks of 256 epochs; larger ones fewer members and
#: epochs (at least ``MIN_ENSEMBLE_EPOCHS`` each), one network beyond that (>= 16 epochs).
COMPUTE_BUDGET = 2.4e11
MAX_MEMBERS = 5
MIN_ENSEMBLE_EPOCHS = 32
INIT_ROWS = 4096  # rows of the data-dependent initialization sample
_PRINTING = threading.Lock()


class BaseTabularMLP(SavedBeforeMixin, CallbackSupportMixin, BaseEstimator):
    """Parameters and fit shared by :class:`TabularMLPClassifier` and the regressor."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "parametric_activation": ["boolean"],
        "numeric_embedding": ["boolean"],
        "embedding_size": [Interval(Integral, 1, None, closed="left")],
        "max_one_hot_levels": [Interval(Integral, 0, None, closed="left"), None],
        "binary_encoding": [StrOptions({"signed", "one-hot"})],
        "front_scale": ["boolean"],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "n_epochs": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "n_members": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, hidden_layer_sizes, activation, parametric_activation,
                 numeric_embedding, embedding_size, max_one_hot_levels, binary_encoding,
                 front_scale, learning_rate, n_epochs, n_members, batch_size, weight_decay,
                 dropout, beta_1, beta_2, validation_fraction, dtype, random_state,
                 verbose):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.parametric_activation = parametric_activation
        self.numeric_embedding = numeric_embedding
        self.embedding_size = embedding_size
        self.max_one_hot_levels = max_one_hot_levels
        self.binary_encoding = binary_encoding
        self.front_scale = front_scale
        self.learning_rate = learning_rate
        self.n_epochs = n_epochs
        self.n_members = n_members
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the preprocessing and the networks to the table ``X`` and target ``y``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Numeric and categorical columns; missing values allowed.
        y : array-like of shape (n_samples,)
            Labels (classifier) or targets (regressor; also ``(n_samples, n_targets)``).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        X_given, y_given, weight_given = X, y, sample_weight  # what callbacks see
        hidden = self._hidden_sizes()
        X = check_table(self, X, reset=True)
        check_consistent_length(X, y)
        Y, strata = self._encode_target(y)
        sample_weight = self._weights(sample_weight, X, strata)
        rng = check_random_state(self.random_state)
        self.preprocessor_ = TabularPreprocessor(
            max_one_hot_levels=self.max_one_hot_levels,
            binary_encoding=self.binary_encoding, dtype=self.dtype)
        Z = self.preprocessor_.fit_transform(X)
        sw = None if sample_weight is None else sample_weight.astype(Z.dtype)
        n_members, n_epochs = self._plan(len(Z), self._layers(Z.shape[1], hidden))
        # Each member draws from its own stream, so it trains the same on any thread.
        seeds = rng.randint(np.iinfo(np.int32).max, size=n_members)
        data = Z, Y, sw, strata, sample_weight
        callbacks = None
        if has_callbacks(self):  # scikit-learn >= 1.9's callbacks (._callbacks)
            callbacks = TabularCallbacks(self, X_given, y_given, weight_given,
                                         n_members, n_epochs)
        jobs = [partial(self._member_job, data, seed, n_epochs, i, n_members, callbacks)
                for i, seed in enumerate(seeds)]
        members = [m for m in run_members(jobs, available_threads()) if m is not None]
        # A callback's stop: the members that reached their last epoch, else the first
        kept = [m for m in members if m[2]] or members[:1]
        networks, histories = [m[0] for m in kept], [m[1] for m in kept]
        self._networks = networks
        self.n_members_ = len(self._networks)  # fewer if a callback stopped the fit
        self.n_iter_ = len(histories[0].loss_curve)
        self.loss_curve_ = np.mean([h.loss_curve for h in histories], axis=0).tolist()
        self.loss_ = self.loss_curve_[-1]
        scores = [[s[0] for s in h.validation_scores] for h in histories]
        self.validation_scores_ = (np.mean(scores, axis=0).tolist() if all(scores)
                                   else None)
        self.best_epochs_ = [h.best_epoch for h in histories]
        if callbacks is not None:
            callbacks.fit_end()
        return self

    def _fit_member(self, data, seed, n_epochs, stop=None, *, reports=(), begin=None):
        """Train one member on its own hold-out: ``(network, history)``.

        Each of ``reports`` (None or ``report(epoch, history)``) is called after each
        epoch; one returning True ends training there, as does ``stop`` (a
        :class:`threading.Event`) when set. ``begin(net)`` is called before training.
        """
        Z, Y, sw, strata, sample_weight = data
        rng = check_random_state(seed)
        train, val = self._split(Z, strata, sample_weight, rng)
        validation = None if val is None else (
            Z[val], Y[val], None if sw is None else sw[val])
        net = Network(self._layers(Z.shape[1], self._hidden_sizes()), self._make_head(),
                      Z.dtype)
        rows = np.arange(len(Z))[train]
        if len(rows) > INIT_ROWS:
            rows = rng.choice(rows, INIT_ROWS, replace=False)
        net.initialize(rng, X=Z[rows])

        def reporter(epoch, history):
            stops = [report(epoch, history) for report in reports if report is not None]
            return any(stops) or (stop is not None and stop.is_set())

        if begin is not None:
            begin(net)
        trainer = TabularTrainer(
            n_epochs=n_epochs, batch_size=self.batch_size,
            learning_rate=self.learning_rate, weight_decay=self.weight_decay,
            dropout=self.dropout, label_smoothing=self._label_smoothing(),
            beta_1=self.beta_1, beta_2=self.beta_2, score=self._validation_score,
            rng=rng, reporter=reporter)
        with np.errstate(over="ignore", invalid="ignore"):
            history = trainer.fit(net, Z[train], Y[train],
                                  None if sw is None else sw[train], validation)
        if not np.all(np.isfinite(net.params)):
            raise ValueError("Training diverged (non-finite weights); lower "
                             "learning_rate.")
        return net, history

    def _member_job(self, data, seed, n_epochs, index, n_members, callbacks, stop):
        """Member ``index`` as a job of :func:`run_members`: ``(net, history, complete)``.

        None when ``stop`` was set before its turn (a callback asked to stop). With
        callbacks, the member's tasks decide when it stops (``stop`` stops them all).
        """
        if stop.is_set():
            return None
        reports = [self._reporter(index, n_members)]
        if callbacks is None:
            net, history = self._fit_member(data, seed, n_epochs, stop, reports=reports)
            return net, history, True
        tasks = callbacks.member(index, stop)
        net, history = self._fit_member(data, seed, n_epochs, reports=[*reports,
                                        tasks.report], begin=tasks.begin)
        return net, history, tasks.end(net, history)

    def _plan(self, n, layers):
        """``(members, epochs)``: as many members as the compute budget allows."""
        n_train = max(1, int(n * (1 - self.validation_fraction)))
        cost = sum(la.n_in * la.n_out for la in layers if isinstance(la, DataDense))
        budget = int(COMPUTE_BUDGET // cost)  # sample passes
        auto_epochs = self.n_epochs == "auto"
        if self.n_members != "auto":
            members = self.n_members
        elif self.validation_fraction == 0:
            members = 1
        else:
            members = next((k for k in range(MAX_MEMBERS, 1, -1)
                            if budget // (k * n_train) >= MIN_ENSEMBLE_EPOCHS), 1)
        if not auto_epochs:
            return members, self.n_epochs
        epochs = int(np.clip(budget // (members * n_train), 16, 256))
        return members, epochs

    def _hidden_sizes(self):
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or not np.all(sizes > 0):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}.")
        return [int(s) for s in sizes]

    def _weights(self, sample_weight, X, strata):
        if sample_weight is None:
            return None
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        if not np.any(sample_weight > 0):
            raise ValueError("sample_weight gives every sample a weight of 0.")
        return sample_weight

    def _split(self, Z, strata, sample_weight, rng):
        """Train and validation rows: stratified, weight-aware; none if too few."""
        salt = rng.randint(np.iinfo(np.int32).max)
        if self.validation_fraction == 0:
            return slice(None), None
        train, val = holdout_split(Z, strata, sample_weight, self.validation_fraction,
                                   salt)
        if val.size < 2 or train.size < 2:
            return slice(None), None
        return train, val

    def _layers(self, n_in, hidden):
        """The RealMLP-TD network for ``n_in`` preprocessed columns."""
        pre, layers, n = self.preprocessor_, [], n_in
        codes = [int(c) for c in pre.code_cardinalities_]
        if codes:
            layers.append(CategoryEmbedding(n, codes, self.embedding_size))
            n = layers[-1].n_out
        n_numeric = int(np.sum(pre.feature_kinds_ == "numeric"))
        if self.numeric_embedding and n_numeric:
            layers.append(PeriodicEmbedding(n, n_numeric))
            n += layers[-1].n_embedded - n_numeric
        if self.front_scale:
            layers.append(Scale(n))
        for i, width in enumerate(hidden):
            layers.append(DataDense(n, width, index=i))
            layers.append(ParametricActivation(self.activation, width)
                          if self.parametric_activation
                          else ActivationLayer(self.activation, width))
            if self.dropout > 0:
                layers.append(Dropout(self.dropout, width, key=i))
            n = width
        layers.append(DataDense(n, self.n_outputs_, index=len(hidden)))
        return layers

    def _reporter(self, member, n_members):
        """A member's verbose lines (None when not verbose).

        Members on threads print as they go, so with several each line names its own.
        """
        if not self.verbose:
            return None
        prefix = f"Member {member + 1} of {n_members}, epoch" if n_members > 1 else "Epoch"

        def report(epoch, history):
            score = (f", validation score = {history.validation_scores[-1][0]:.6f}"
                     if history.validation_scores else "")
            line = f"{prefix} {epoch + 1}, loss = {history.loss_curve[-1]:.8f}{score}"
            with _PRINTING:  # whole lines, whichever thread prints
                print(line)
        return report

    # ------------------------------------------------------------- predicting
    def _forward(self, X):
        check_is_fitted(self, "_networks")
        X = check_table(self, X, reset=False)
        return predict_ensemble(self._networks, self.preprocessor_.transform(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags
