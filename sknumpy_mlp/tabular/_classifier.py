"""TabularMLPClassifier: a network that takes a table as it is, strong by default."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, column_or_1d

from .._class_weight import class_weight_factors
from .._losses import get_loss
from ._base import BaseTabularMLP


class TabularMLPClassifier(ClassifierMixin, BaseTabularMLP):
    """Neural network classifier for tables, after RealMLP-TD; no tuning needed.

    Takes what :class:`~sklearn.ensemble.HistGradientBoostingClassifier` takes: a pandas
    DataFrame or an array, numeric and categorical columns (pandas ``category``,
    ``object`` or string dtypes), missing values. Inside: :class:`TabularPreprocessor`
    (robust scaling and smooth clipping, one-hot or learned embeddings for categories,
    missing indicators), periodic embeddings of the numbers, three data-initialized
    layers of 256 with a parametric SELU and scheduled dropout, trained with Adam
    (``beta_2=0.95``) on RealMLP's multi-cycle learning-rate schedule with label
    smoothing and scheduled weight decay; the epoch with the best validation score on a
    stratified hold-out is kept. Everything is NumPy, written out
    by hand on the package's layer protocol.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256, 256, 256)
        Width of each hidden layer.
    activation : str, default="selu"
        Hidden activation, a name of :data:`sknumpy_mlp._activations.ACTIVATIONS`.
    parametric_activation : bool, default=True
        Learn a per-unit mix :math:`x + \\alpha (f(x) - x)`, :math:`\\alpha` from 1.
    numeric_embedding : bool, default=True
        Embed each number as ``[W cos(2 pi w x + b) + c, x]`` (RealMLP's PBLD).
    embedding_size : int, default=8
        Size of the learned embedding of a category with many levels.
    max_one_hot_levels : int or None, default=8
        Categorical columns with at most this many levels are one-hot encoded (two
        levels: see ``binary_encoding``); the others get a learned embedding.
    binary_encoding : {"signed", "one-hot"}, default="signed"
        A categorical column with two levels becomes one column of +1 / -1 (0 for
        missing or unseen; RealMLP-TD's encoding) or two one-hot columns.
    front_scale : bool, default=False
        A learnable scale per input column, learning 6x faster than the rest
        (RealMLP-TD's soft feature selection). Off by default: on the 14 data sets of
        ``benchmarks/bench_tabular.py`` the ensemble without it had 0.94 times the loss
        (better on 9 sets, worse on 3; it helped on the wide DNA and spam tables).
    learning_rate : float, default=0.04
        Peak learning rate of the schedule.
    n_epochs : int or "auto", default="auto"
        Passes over the training data per member; "auto" spends a fixed budget of
        sample passes (about 40 s on two cores): 256 epochs on small tables,
        fewer on large ones (at least 16).
    n_members : int or "auto", default="auto"
        Networks in the ensemble, each trained on its own random hold-out split (so
        together they learn from every row); their probabilities are averaged.
        "auto": 5 when the budget allows at least 32 epochs each, fewer on large
        tables, down to one network.
        The members train side by side, one per core (as many at once as BLAS may
        use threads: ``threadpoolctl.threadpool_limits`` or a search's worker
        processes lower it), with callbacks too (a progress bar shows them
        together), or one after the other when the fit runs outside the main
        thread; the ensemble is the same either way.
    batch_size : int, default=256
    weight_decay : float, default=0.02
        Decoupled weight decay, flat then annealed to 0 over the second half.
    dropout : float, default=0.15
        Dropout after each hidden layer, annealed like the weight decay.
    label_smoothing : float, default=0.1
    beta_1, beta_2 : float, default=0.9, 0.95
        Adam's moment decays.
    validation_fraction : float, default=0.2
        Stratified hold-out that picks the best epoch; 0 keeps the last epoch.
    validation_metric : {"log_loss", "accuracy", "roc_auc"}, default="log_loss"
        What picks the best epoch on the hold-out. The log-loss is a proper scoring
        rule: it rewards calibrated probabilities, is smooth on small hold-outs where
        accuracy moves in coarse steps, and respects ``class_weight``; "accuracy" and
        "roc_auc" break ties by it.
    class_weight : dict, "balanced" or None, default=None
    dtype : {"float32", "float64"}, default="float32"
        The network's dtype; float32 trains and predicts about twice as fast. In
        float32 a row's prediction may differ by about 1e-7 with the rows predicted
        alongside it (BLAS rounds by block shape); float64 makes it independent of the
        batch to 1e-16.
    random_state : int, RandomState instance or None, default=None
    verbose : bool or int, default=0
        Print the loss and validation score after each epoch (``Epoch 3, loss = ...``;
        with several members ``Member 2 of 5, epoch 3, ...``, as they train side by
        side the lines of different members interleave).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    preprocessor_ : TabularPreprocessor
        The fitted preprocessing.
    n_outputs_ : int
    n_iter_ : int
        Epochs run (by each member).
    loss_curve_ : list of float
        Mean training loss of each epoch, averaged over the members.
    validation_scores_ : list of float or None
        Validation score of each epoch (``validation_metric``; the negative log-loss
        by default), averaged over the members.
    n_members_ : int
        Networks trained.
    best_epochs_ : list of int
        For each member, the epoch whose weights were kept.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has column names.

    See Also
    --------
    sknumpy_mlp.MLPScratchClassifier : The drop-in for scikit-learn's MLPClassifier.
    sklearn.ensemble.HistGradientBoostingClassifier : What this aims to beat.

    References
    ----------
    .. [1] D. Holzmüller, L. Grinsztajn and I. Steinwart, "Better by Default: Strong
       Pre-Tuned MLPs and Boosted Trees on Tabular Data", NeurIPS 2024.
    .. [2] Y. Gorishniy, I. Rubachev and A. Babenko, "On Embeddings for Numerical
       Features in Tabular Deep Learning", NeurIPS 2022.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sknumpy_mlp.tabular import TabularMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> clf = TabularMLPClassifier(n_epochs=8, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        **BaseTabularMLP._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "validation_metric": [StrOptions({"log_loss", "accuracy", "roc_auc"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, hidden_layer_sizes=(256, 256, 256), activation="selu",
                 parametric_activation=True, numeric_embedding=True, embedding_size=8,
                 max_one_hot_levels=8, binary_encoding="signed", front_scale=False,
                 learning_rate=0.04, n_epochs="auto", n_members="auto",
                 batch_size=256, weight_decay=0.02, dropout=0.15,
                 label_smoothing=0.1, beta_1=0.9, beta_2=0.95, validation_fraction=0.2,
                 validation_metric="log_loss", class_weight=None, dtype="float32",
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
        self.label_smoothing = label_smoothing
        self.validation_metric = validation_metric
        self.class_weight = class_weight

    def predict_proba(self, X):
        """Class probabilities, shape ``(n_samples, n_classes)``, in ``classes_`` order.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        out = self._forward(X)
        if out.shape[1] == 1:
            out = np.hstack([1 - out, out])
        return out

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)  # checks that the estimator is fitted first
        return self.classes_[np.argmax(proba, axis=1)]

    # ------------------------------------------------------------ target hooks
    def _encode_target(self, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None, input_name="y"),
                         warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"y has one class only ({self.classes_[0]!r}); a classifier "
                             "needs at least 2 classes to learn from.")
        codes = encoder.transform(y)
        self.n_outputs_ = 1 if len(self.classes_) == 2 else len(self.classes_)
        Y = (codes[:, None] == 1) if self.n_outputs_ == 1 else \
            codes[:, None] == np.arange(self.n_outputs_)
        return Y, codes

    def _weights(self, sample_weight, X, strata):
        sample_weight = super()._weights(sample_weight, X, strata)
        if self.class_weight is None:
            return sample_weight
        # strata are the codes 0..K-1; class_weight names the labels themselves
        factors = class_weight_factors(self.class_weight, self.classes_[strata],
                                       self.classes_, sample_weight)
        return factors if sample_weight is None else factors * sample_weight

    def _make_head(self):
        return get_loss(self.n_outputs_, multilabel=False)

    def _label_smoothing(self):
        return self.label_smoothing

    def _validation_score(self, net, X, Y, sample_weight):
        proba = net.predict_output(X)
        _, log_loss = net.head.score_and_loss(proba, Y, sample_weight)
        metric = self.validation_metric
        if metric == "log_loss":
            return (-log_loss,)
        if metric == "roc_auc":
            return self._auc(proba, Y, sample_weight), -log_loss
        accuracy, _ = net.head.score_and_loss(proba, Y, sample_weight)
        return accuracy, -log_loss

    @staticmethod
    def _auc(proba, Y, sample_weight):
        labels = Y[:, 0] if Y.shape[1] == 1 else np.argmax(Y, axis=1)
        if len(np.unique(labels)) < 2:
            return 0.0
        if Y.shape[1] == 1:
            return float(roc_auc_score(labels, proba[:, 0], sample_weight=sample_weight))
        return float(roc_auc_score(labels, proba, multi_class="ovr",
                                   sample_weight=sample_weight))
