"""TabularMLPRegressor: the tabular network for numeric targets."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array

from .._regression_losses import IdentitySquaredError
from ._base import BaseTabularMLP


class TabularMLPRegressor(RegressorMixin, BaseTabularMLP):
    """Neural network regressor for tables, after RealMLP-TD; no tuning needed.

    The same network and training as :class:`TabularMLPClassifier` (see there), with
    RealMLP-TD's regression choices: a parametric Mish activation, the targets
    standardized for training (predictions mapped back), predictions clipped to the
    range of the training targets, half the squared error as the loss, and the best
    epoch picked by the validation mean squared error.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256, 256, 256)
    activation : str, default="mish"
    parametric_activation : bool, default=True
    numeric_embedding : bool, default=True
    embedding_size : int, default=8
    max_one_hot_levels : int or None, default=8
    binary_encoding : {"signed", "one-hot"}, default="signed"
    front_scale : bool, default=True
        On for regression, unlike the classifier: on 5 regression tables x 10 splits
        (``benchmarks/bench_tabular_regression.py``) the RMSE was 1.7 % higher without
        it (95 % interval 0.4-2.9 %).
    learning_rate : float, default=0.2
        Peak learning rate (RealMLP-TD's regression value).
    n_epochs : int or "auto", default="auto"
        As for the classifier. A regressor needs more of them than a classifier for a
        quick look: on diabetes (two members, three splits) the test R^2 is -0.2 to 0.1
        after 8 epochs, 0.32-0.38 after 32, and about 0.45 with "auto" (RMSE 0.74 of
        the mean's, ``benchmarks/results/tabular_regression.md``).
    n_members : int or "auto", default="auto"
    batch_size : int, default=256
    weight_decay : float, default=0.02
    dropout : float, default=0.15
    beta_1, beta_2 : float, default=0.9, 0.95
    validation_fraction : float, default=0.2
    dtype : {"float32", "float64"}, default="float32"
        As for the classifier: float32 is about twice as fast, float64 makes a row's
        prediction independent of the batch (to 1e-16 instead of about 1e-7).
    random_state : int, RandomState instance or None, default=None
    verbose : bool or int, default=0

    Attributes
    ----------
    preprocessor_ : TabularPreprocessor
    n_outputs_ : int
    n_members_, n_iter_, loss_curve_, validation_scores_, best_epochs_
        As in :class:`TabularMLPClassifier` (the scores are validation R^2 values).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    TabularMLPClassifier : The classifier, whose docstring describes the network.
    sklearn.ensemble.HistGradientBoostingRegressor : What this aims to beat.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sknumpy_mlp.tabular import TabularMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> reg = TabularMLPRegressor(n_epochs=30, n_members=2, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.5
    True
    """

    def __init__(self, *, hidden_layer_sizes=(256, 256, 256), activation="mish",
                 parametric_activation=True, numeric_embedding=True, embedding_size=8,
                 max_one_hot_levels=8, binary_encoding="signed", front_scale=True,
                 learning_rate=0.2, n_epochs="auto", n_members="auto",
                 batch_size=256, weight_decay=0.02, dropout=0.15,
                 beta_1=0.9, beta_2=0.95, validation_fraction=0.2, dtype="float32",
                 random_state=None, verbose=0):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            parametric_activation=parametric_activation,
            numeric_embedding=numeric_embedding, embedding_size=embedding_size,
            max_one_hot_levels=max_one_hot_levels, binary_encoding=binary_encoding,
            front_scale=front_scale,
            learning_rate=learning_rate, n_epochs=n_epochs, n_members=n_members,
            batch_size=batch_size,
            weight_decay=weight_decay, dropout=dropout, beta_1=beta_1, beta_2=beta_2,
            validation_fraction=validation_fraction, dtype=dtype,
            random_state=random_state, verbose=verbose)

    def predict(self, X):
        """Predicted targets, clipped to the range seen in ``fit``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        out = self._forward(X).astype(np.float64) * self._y_scale + self._y_center
        np.clip(out, self._y_min, self._y_max, out=out)
        return out[:, 0] if self._y_1d else out

    # ------------------------------------------------------------ target hooks
    def _encode_target(self, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
        y = check_array(y, ensure_2d=False, dtype=np.float64,
                        input_name="y")  # rejects NaN and inf with sklearn's words
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1)
        self.n_outputs_ = Y.shape[1]
        self._y_center = Y.mean(axis=0)
        scale = Y.std(axis=0)
        self._y_scale = np.where(scale > 0, scale, 1.0)
        self._y_min, self._y_max = Y.min(axis=0), Y.max(axis=0)
        return ((Y - self._y_center) / self._y_scale).astype(self.dtype), None

    def _make_head(self):
        return IdentitySquaredError()

    def _label_smoothing(self):
        return 0.0

    def _validation_score(self, net, X, Y, sample_weight):
        residual = net.predict_output(X) - Y
        mse = np.average(np.mean(residual * residual, axis=1), weights=sample_weight)
        return (1.0 - float(mse),)  # R^2 on standardized targets, up to their spread

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
