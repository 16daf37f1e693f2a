"""MLPScratchClassifier: scikit-learn's MLPClassifier over a hand-written NumPy core.

This module holds what is the classifier's own: label encoding, class weights, label
smoothing, probabilities and the accuracy-based early stopping; the shared parameters,
validation and fit/partial_fit plumbing are :class:`._base.BaseMLPScratch`'s, and the
math lives in the modules below it.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted

from ._base import STOCHASTIC_SOLVERS, BaseMLPScratch
from ._class_weight import class_weight_factors
from ._losses import get_loss
from ._validation import check_class_weight_values, check_label_type, check_label_values

_STOCHASTIC_SOLVERS = STOCHASTIC_SOLVERS  # both were importable from here (old code)


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


class MLPScratchClassifier(ClassifierMixin, BaseMLPScratch):
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
'selu', 'gelu', 'silu', 'mish'}, default='relu'
        Activation of the hidden layers. The first four are scikit-learn's;
        ``leaky_relu`` (slope 0.01), ``elu`` (alpha 1), ``selu`` (Klambauer et al.'s
        constants), ``gelu`` (exact erf form), ``silu`` and ``mish`` are ours.

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
        **BaseMLPScratch._parameter_constraints,
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
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
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha,
            batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            weight_decay=weight_decay, warmup_iter=warmup_iter, dropout=dropout,
            batch_norm=batch_norm, clip_grad_norm=clip_grad_norm,
            weight_init=weight_init)
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    # ------------------------------------------------------------ target hooks
    def _before_validation(self, y, incremental, classes):
        if incremental and _check_partial_fit_first_call(self, classes):
            self._label_binarizer = self._partial_fit_binarizer(y)

    def _encode_target(self, y, incremental, dtype):
        check_label_values(y)
        try:
            Y = self._encode_labels(y, incremental)
        except ValueError:
            check_label_type(y)
            raise
        return Y, y

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

    def _extra_weights(self, sample_weight, labels, dtype):
        if self.class_weight is None:
            return sample_weight
        check_class_weight_values(self.class_weight)
        factors = class_weight_factors(self.class_weight, labels, self.classes_,
                                       sample_weight).astype(dtype)
        weights = factors if sample_weight is None else sample_weight * factors
        if not np.any(weights > 0):
            raise ValueError("sample_weight and class_weight together give every sample "
                             "a weight of 0; give some classes a positive weight.")
        return weights

    def _check_weighted_target(self, labels, sample_weight, incremental):
        if not incremental and sample_weight is not None and labels.ndim == 1:
            weighted = np.unique(labels[sample_weight > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "Only one class has positive sample_weight "
                    f"({weighted[0]!r}); a classifier needs at least 2 classes to learn "
                    "from. Give samples of another class a positive weight.")

    def _make_head(self, Y):
        multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
        head = get_loss(self.n_outputs_, multilabel)
        self.out_activation_ = head.out_activation
        return head

    def _strata(self, labels, Y):
        strata = labels if labels.ndim == 1 else None
        if strata is not None and Y.shape[1] == 1:  # where scikit-learn stratifies
            _check_stratifiable(strata, Y)
        return strata

    def _break_ties(self):
        return len(self.classes_) > 1

    def _label_smoothing(self):
        return self.label_smoothing

    def _callback_target(self, Y):
        """The labels an indicator matrix ``Y`` encodes (what callbacks score on)."""
        return self._label_binarizer.inverse_transform(Y.astype(float))

    # ---------------------------------------------------------------- fitting
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
        return self._partial_fit(X, y, sample_weight=sample_weight, classes=classes)

    # ------------------------------------------------------------- predicting
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
