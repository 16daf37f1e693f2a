"""Classification heads: an output activation fused with its cross-entropy loss.

Fusing the pair is what makes the output gradient the simple ``p - t``: each
head computes the loss from the logits with a log-sum-exp (or softplus), so it
stays finite for any finite logits, and writes the gradient over the logits in
place. ``y`` is an indicator matrix of shape (n_samples, n_outputs), bool or
float; ``z`` holds the logits, float32 or float64, and keeps its dtype. (The
regression heads are in :mod:`._regression_losses`; every head offers ``activate``,
``predict``, ``loss_and_grad`` and ``score_and_loss``.)
"""

import numpy as np
from scipy.special import expit


def _smoothed_targets(y, label_smoothing, n_levels, dtype):
    """Return ``y * (1 - eps) + eps / n_levels``, or ``y`` itself when eps is 0."""
    if not label_smoothing:
        return y
    t = np.multiply(y, 1.0 - label_smoothing, dtype=dtype)
    t += label_smoothing / n_levels
    return t


def _row_dot(a, b):
    """Row-wise dot product ``sum_k a_ik b_ik``, shape (n_samples,)."""
    return np.einsum("ij,ij->i", a, b)


def _finish(z, t, per_sample, sample_weight, scale):
    """Turn ``z`` (holding probabilities) into the gradient, return the loss."""
    z -= t  # (n, k): p - t, the gradient of the unweighted loss
    return weigh(z, per_sample, sample_weight, scale)


def weigh(z, per_sample, sample_weight, scale):
    """Scale the gradient held in ``z`` by ``scale * w_i``; return the summed loss."""
    if sample_weight is None:
        if scale != 1.0:
            z *= scale
        return float(per_sample.sum(dtype=np.float64))
    sample_weight = np.asarray(sample_weight)
    z *= (scale * sample_weight)[:, np.newaxis]
    return float(np.dot(sample_weight, per_sample.astype(np.float64, copy=False)))


class _ClassificationHead:
    """What both classification heads share: clipped probabilities and accuracy."""

    def predict(self, z):
        """Probabilities from the logits ``z`` (in place), strictly inside (0, 1).

        Clipping keeps log-probabilities finite and never claims a probability is
        certain (it changes values below 1 ulp).
        """
        proba = self.activate(z)
        eps = np.finfo(proba.dtype).eps
        return np.clip(proba, eps, 1 - eps, out=proba)

    def score_and_loss(self, proba, Y, sample_weight=None):
        """Accuracy (scikit-learn's ``score``) and mean log-loss of ``proba``."""
        eps = np.finfo(proba.dtype).eps
        p = np.clip(proba, eps, 1 - eps)
        correct, losses = self._correct_and_losses(proba, p, Y)
        return (float(np.average(correct, weights=sample_weight)),
                float(np.average(losses, weights=sample_weight)))

    def per_sample_loss(self, proba, Y):
        """Log-loss of each row of ``proba``, shape (n_samples,)."""
        eps = np.finfo(proba.dtype).eps
        return self._correct_and_losses(proba, np.clip(proba, eps, 1 - eps), Y)[1]


class SoftmaxCrossEntropy(_ClassificationHead):
    r"""Softmax output with categorical cross-entropy, for ``k >= 2`` classes.

    Notes
    -----
    With :math:`p = \operatorname{softmax}(z)` and targets :math:`t` whose
    rows sum to one, the per-sample loss is

    .. math::

        \ell = -\sum_k t_k \log p_k
             = \log \sum_j e^{z_j} - \sum_k t_k z_k ,

    and since :math:`\partial \log\sum_j e^{z_j} / \partial z_k = p_k`,

    .. math::

        \frac{\partial \ell}{\partial z_k} = p_k \sum_j t_j - t_k = p_k - t_k .

    The :math:`1/p` of the cross-entropy is cancelled exactly by the softmax
    Jacobian :math:`\operatorname{diag}(p) - p p^\top` because softmax is the
    canonical (inverse) link of the multinomial. This is why the gradient is
    written in terms of the logits and why the shortcut holds only for this
    matched pair, not for softmax with another loss.

    Label smoothing mixes the one-hot targets with the uniform distribution,
    :math:`t = (1 - \varepsilon) y + \varepsilon / k`, which keeps rows summing
    to one.

    References
    ----------
    .. [1] Bishop, C. M. (2006). *Pattern Recognition and Machine Learning*,
       Sections 4.3.4 and 5.2. Springer.
    .. [2] Szegedy, C., Vanhoucke, V., Ioffe, S., Shlens, J. and Wojna, Z.
       (2016). "Rethinking the Inception architecture for computer vision".
       CVPR (label smoothing).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[2.0, 0.0], [0.0, 0.0]])
    >>> y = np.array([[True, False], [False, True]])
    >>> loss = SoftmaxCrossEntropy().loss_and_grad(z, y)
    >>> round(loss, 4)  # log(1 + e^-2) + log(2)
    0.8201
    >>> z.round(4)  # p - y
    array([[-0.1192,  0.1192],
           [ 0.5   , -0.5   ]])
    """

    out_activation = "softmax"

    def activate(self, z):
        """Apply the row-wise softmax to ``z`` in place and return it.

        The row maximum is subtracted first so ``exp`` cannot overflow.
        """
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    @staticmethod
    def _correct_and_losses(proba, p, Y):
        correct = proba.argmax(axis=1) == Y.argmax(axis=1)
        return correct, -np.log(p[Y.astype(bool)])

    def loss_and_grad(self, z, y, sample_weight=None, label_smoothing=0.0, scale=1.0):
        """Return the summed cross-entropy; overwrite ``z`` with its gradient.

        Parameters
        ----------
        z : ndarray of shape (n_samples, n_classes), float32 or float64
            Logits; overwritten with ``scale * w_i * (p_ik - t_ik)``.
        y : ndarray of shape (n_samples, n_classes), bool or float
            One-hot targets (rows summing to one).
        sample_weight : ndarray of shape (n_samples,), default=None
            Per-sample weights ``w_i``; all ones when None.
        label_smoothing : float, default=0.0
            ``eps`` in ``t = y * (1 - eps) + eps / n_classes``.
        scale : float, default=1.0
            Factor applied to the gradient only, e.g. ``1 / batch_size``.

        Returns
        -------
        loss : float
            ``sum_i w_i * l_i``, not multiplied by ``scale``.
        """
        t = _smoothed_targets(y, label_smoothing, z.shape[1], z.dtype)
        z -= z.max(axis=1, keepdims=True)  # (n, k), each row's max is now 0
        tz = _row_dot(z, t)  # (n,)
        np.exp(z, out=z)
        norm = z.sum(axis=1)  # (n,), in [1, k]: its log never overflows
        z /= norm[:, np.newaxis]
        per_sample = np.log(norm)
        per_sample -= tz
        return _finish(z, t, per_sample, sample_weight, scale)


class SigmoidBinaryCrossEntropy(_ClassificationHead):
    r"""Independent sigmoid outputs with binary cross-entropy.

    Used for binary problems (one output column) and for multilabel problems
    (one column per label).

    Notes
    -----
    With :math:`s = \sigma(z)`, :math:`\log s = -\operatorname{softplus}(-z)`
    and :math:`\log(1 - s) = -\operatorname{softplus}(z)`, so per output

    .. math::

        \ell = -t \log s - (1 - t) \log(1 - s)
             = \operatorname{softplus}(z) - t z ,

    evaluated with ``np.logaddexp(0, z)``, finite for any finite logit. Since
    :math:`\operatorname{softplus}'(z) = \sigma(z)`,

    .. math::

        \frac{\partial \ell}{\partial z} = \sigma(z) - t .

    The :math:`1 / (s (1 - s))` of the cross-entropy cancels the sigmoid's
    derivative :math:`s (1 - s)` because the logistic function is the
    canonical link of the Bernoulli; the shortcut is valid only for this pair.
    Label smoothing uses :math:`t = (1 - \varepsilon) y + \varepsilon / 2`.

    References
    ----------
    .. [1] Bishop, C. M. (2006). *Pattern Recognition and Machine Learning*,
       Sections 4.3.2 and 5.2. Springer.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0], [3.0]])
    >>> y = np.array([[1.0], [0.0]])
    >>> loss = SigmoidBinaryCrossEntropy().loss_and_grad(z, y)
    >>> round(loss, 4)  # log(2) + log(1 + e^3)
    3.7417
    >>> z.round(4)  # sigmoid(z) - y
    array([[-0.5   ],
           [ 0.9526]])
    """

    out_activation = "logistic"

    def activate(self, z):
        """Apply the logistic sigmoid to ``z`` in place and return it."""
        return expit(z, out=z)

    @staticmethod
    def _correct_and_losses(proba, p, Y):
        correct = np.all((proba > 0.5) == Y.astype(bool), axis=1)
        return correct, -(Y * np.log(p) + (1 - Y) * np.log1p(-p)).sum(axis=1)

    def loss_and_grad(self, z, y, sample_weight=None, label_smoothing=0.0, scale=1.0):
        """Return the summed binary cross-entropy; overwrite ``z`` with its gradient.

        Parameters
        ----------
        z : ndarray of shape (n_samples, n_outputs), float32 or float64
            Logits; overwritten with ``scale * w_i * (sigmoid(z_ik) - t_ik)``.
        y : ndarray of shape (n_samples, n_outputs), bool or float
            Binary indicator targets.
        sample_weight : ndarray of shape (n_samples,), default=None
            Per-sample weights ``w_i``; all ones when None.
        label_smoothing : float, default=0.0
            ``eps`` in ``t = y * (1 - eps) + eps / 2``.
        scale : float, default=1.0
            Factor applied to the gradient only, e.g. ``1 / batch_size``.

        Returns
        -------
        loss : float
            ``sum_i w_i * sum_k l_ik``, not multiplied by ``scale``.
        """
        t = _smoothed_targets(y, label_smoothing, 2, z.dtype)
        per_sample = np.logaddexp(0.0, z).sum(axis=1)  # (n,), sum_k softplus
        per_sample -= _row_dot(z, t)
        expit(z, out=z)
        return _finish(z, t, per_sample, sample_weight, scale)


def get_loss(n_outputs, multilabel):
    """Return the output head for a problem.

    Parameters
    ----------
    n_outputs : int
        Number of output units (columns of the indicator matrix).
    multilabel : bool
        Whether the columns are independent labels.

    Returns
    -------
    head : SoftmaxCrossEntropy or SigmoidBinaryCrossEntropy
        Softmax when the problem is multiclass (``n_outputs > 1`` and not
        multilabel), otherwise independent sigmoids.

    Examples
    --------
    >>> type(get_loss(3, multilabel=False)).__name__
    'SoftmaxCrossEntropy'
    >>> type(get_loss(1, multilabel=False)).__name__
    'SigmoidBinaryCrossEntropy'
    """
    if n_outputs > 1 and not multilabel:
        return SoftmaxCrossEntropy()
    return SigmoidBinaryCrossEntropy()


#: The classification heads by their ``out_activation_``; :func:`get_loss` picks one
#: from the target, persistence and the skops trusted types read the table.
CLASSIFICATION_HEADS = {cls.out_activation: cls
                        for cls in (SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy)}
