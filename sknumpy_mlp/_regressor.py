"""MLPScratchRegressor: scikit-learn's MLPRegressor over the same NumPy core.

What is the regressor's own: real-valued (multi-output) targets, the identity or
exponential output with its loss, R^2 as score and early-stopping criterion. Everything
else is :class:`._base.BaseMLPScratch`'s.
"""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMLPScratch
from ._regression_losses import REGRESSION_HEADS


class MLPScratchRegressor(RegressorMixin, BaseMLPScratch):
    """Multi-layer perceptron regressor, backpropagation written by hand in NumPy.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: the same
    parameters, defaults, fitted attributes and methods (``loss`` first, as there),
    plus what scikit-learn's MLP does not offer (dropout, batch normalization, more
    activations, AdamW and RMSProp, cosine and exponential schedules with warm-up and
    gradient clipping). With the new parameters at their defaults it trains exactly as
    scikit-learn does: same initialization, same minibatches, same updates.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss, as in scikit-learn: 'squared_error' is half the mean squared error
        with an identity output; 'poisson' is half the Poisson deviance with an
        exponential output (predictions are positive; ``y`` must be non-negative).

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
        Hold out ``validation_fraction`` of the training data and stop when the
        validation R^2 has not improved by ``tol`` for ``n_iter_no_change`` epochs
        (scikit-learn's rule); the best weights are restored. Duplicate rows are kept
        on one side of the split.

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

    clip_grad_norm : float or None, default=None
        Rescale the whole gradient when its global L2 norm exceeds this value.

    weight_init : {'auto', 'glorot_uniform', 'he_normal', 'he_uniform'}, default='auto'
        'auto' is scikit-learn's scheme (Glorot-uniform weights and biases).

    Attributes
    ----------
    loss_ : float
        The current loss computed with the loss function.
    best_loss_ : float or None
        Minimum training loss reached (None when early stopping is on).
    loss_curve_ : list of shape (n_iter_,)
        Training loss after each epoch. Also recorded for 'lbfgs' (one value per
        L-BFGS iteration), where scikit-learn leaves it unset.
    validation_scores_ : list of shape (n_iter_,) or None
        Validation R^2 after each epoch when early stopping is on.
    validation_loss_curve_ : list of shape (n_iter_,) or None
        Validation loss (without the L2 term) after each epoch when early stopping is
        on.
    best_validation_score_ : float or None
        Best validation R^2 when early stopping is on.
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
        Name of the output activation ('identity', or 'exp' for ``loss='poisson'``).

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The estimator this one replaces.
    MLPScratchClassifier : The classifier on the same core.

    Notes
    -----
    As in scikit-learn, for several outputs the reported squared-error loss is the
    mean over outputs while the gradient is that of their sum (see
    :class:`._regression_losses.IdentitySquaredError`).

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
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknumpy_mlp import MLPScratchRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = make_pipeline(StandardScaler(), MLPScratchRegressor(
    ...     hidden_layer_sizes=(8,), solver="lbfgs", alpha=1.0, random_state=0))
    >>> reg = reg.fit(X_train, y_train)
    >>> reg.predict(X_test[:2]).shape
    (2,)
    >>> bool(reg.score(X_test, y_test) > 0.2)  # R^2
    True
    """

    _parameter_constraints: dict = {
        **BaseMLPScratch._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_HEADS))],
    }
    _y_numeric = True

    def __init__(
        self,
        loss="squared_error",
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
        self.loss = loss

    # ------------------------------------------------------------ target hooks
    def _encode_target(self, y, incremental, dtype):
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if REGRESSION_HEADS[self.loss].nonnegative_target and np.any(Y < 0):
            raise ValueError(
                f"loss={self.loss!r} needs non-negative targets (counts, rates); y has "
                f"{np.count_nonzero(Y < 0)} negative values. Use "
                "loss='squared_error' for targets of any sign.")
        return np.ascontiguousarray(Y, dtype=dtype), y

    def _make_head(self, Y):
        head = REGRESSION_HEADS[self.loss]()
        self.out_activation_ = head.out_activation
        return head

    def _callback_target(self, Y):
        return Y.ravel() if Y.shape[1] == 1 else Y

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
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
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight=sample_weight)

    # ------------------------------------------------------------- predicting
    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        return y_pred.ravel() if y_pred.shape[1] == 1 else y_pred
