"""Regression heads: identity + half squared error, exp + half Poisson deviance.

They follow the classification heads' interface (:mod:`._losses`): ``loss_and_grad``
takes the output layer's pre-activations ``z`` (n_samples, n_outputs), returns the
weighted summed loss and overwrites ``z`` with its gradient; ``predict`` maps ``z`` to
predictions; ``score_and_loss`` gives R^2 and the mean loss for early stopping. ``y``
holds real targets of shape (n_samples, n_outputs). Both pairs are canonical
(loss, link) pairs, so the output gradient is again ``prediction - y``.
"""

import numpy as np
from scipy.special import xlogy
from sklearn.metrics import r2_score

from ._losses import weigh


class _RegressionHead:
    """What both regression heads share: R^2 as the score, as scikit-learn's."""

    nonnegative_target = False  # whether the loss needs y >= 0 (the estimator checks)

    def predict(self, z):
        """Predictions from ``z``, in place."""
        return self.activate(z)

    def score_and_loss(self, y_pred, Y, sample_weight=None):
        """R^2 (scikit-learn's ``score``, averaged over outputs) and the mean loss."""
        losses = self.per_sample_loss(y_pred, Y)
        return (float(r2_score(Y, y_pred, sample_weight=sample_weight)),
                float(np.average(losses, weights=sample_weight)))


class IdentitySquaredError(_RegressionHead):
    r"""Identity output with half the squared error, as scikit-learn's MLPRegressor.

    Notes
    -----
    For :math:`K` outputs, scikit-learn's loss of a sample is the mean over outputs

    .. math::

        \ell = \frac{1}{2K} \sum_k (z_k - y_k)^2 ,

    and the gradient it backpropagates is :math:`z_k - y_k`, the gradient of
    :math:`K \ell` (the sum over outputs). For one output the two agree; for several,
    the reported loss (``loss_``, ``loss_curve_``, the L-BFGS objective value) is the
    mean while the step follows the sum. We keep both exactly as scikit-learn does, so
    that ours trains to the same weights.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[1.0], [3.0]])
    >>> loss = IdentitySquaredError().loss_and_grad(z, np.array([[0.0], [1.0]]))
    >>> loss  # (1 + 4) / 2
    2.5
    >>> z.ravel()  # z - y
    array([1., 2.])
    """

    out_activation = "identity"
    onnx_op = None  # its ONNX form: none needed

    def activate(self, z):
        """The identity: return ``z`` unchanged."""
        return z

    def per_sample_loss(self, y_pred, Y):
        """``0.5 * mean_k (y_pred - Y)**2`` per row, shape (n_samples,)."""
        r = y_pred - Y
        return np.einsum("ij,ij->i", r, r) * (0.5 / r.shape[1])

    def loss_and_grad(self, z, y, sample_weight=None, label_smoothing=0.0, scale=1.0):
        """Return ``sum_i w_i l_i``; overwrite ``z`` with ``scale * w_i * (z - y)``.

        ``label_smoothing`` is accepted for the common interface and ignored.
        """
        z -= y  # (n, K) residuals: the gradient of the summed half squared error
        per_sample = np.einsum("ij,ij->i", z, z)
        per_sample *= 0.5 / z.shape[1]
        return weigh(z, per_sample, sample_weight, scale)


class ExpPoissonDeviance(_RegressionHead):
    r"""Exponential output with half the Poisson deviance (``loss='poisson'``).

    Notes
    -----
    With :math:`\mu = e^{z}` and counts :math:`y \ge 0`, per sample

    .. math::

        \ell = \sum_k y_k \log\frac{y_k}{\mu_k} - y_k + \mu_k
             = \sum_k y_k \log y_k - y_k z_k - y_k + e^{z_k},

    (scikit-learn's ``poisson_loss``: summed over outputs, with the constant
    :math:`y \log y - y` kept so that a perfect fit has loss 0), hence

    .. math::

        \frac{\partial \ell}{\partial z_k} = e^{z_k} - y_k = \mu_k - y_k :

    the exponential is the canonical (inverse) link of the Poisson, so its derivative
    :math:`\mu` cancels the :math:`1/\mu` of the deviance.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.log(np.array([[2.0], [1.0]]))
    >>> loss = ExpPoissonDeviance().loss_and_grad(z, np.array([[2.0], [0.0]]))
    >>> round(loss, 12)  # 0 for the perfect fit, 1 for mu=1 against y=0
    1.0
    >>> z.ravel()  # mu - y
    array([0., 1.])
    """

    out_activation = "exp"
    onnx_op = "Exp"
    nonnegative_target = True

    def activate(self, z):
        """``exp(z)`` in place."""
        return np.exp(z, out=z)

    def per_sample_loss(self, y_pred, Y):
        """Half Poisson deviance per row, summed over outputs, shape (n_samples,)."""
        return (xlogy(Y, Y / y_pred) - Y + y_pred).sum(axis=1)

    def loss_and_grad(self, z, y, sample_weight=None, label_smoothing=0.0, scale=1.0):
        """Return ``sum_i w_i l_i``; overwrite ``z`` with ``scale * w_i * (exp(z) - y)``.

        ``label_smoothing`` is accepted for the common interface and ignored.
        """
        per_sample = (xlogy(y, y) - y - y * z).sum(axis=1)  # (n,)
        np.exp(z, out=z)
        per_sample += z.sum(axis=1)
        z -= y
        return weigh(z, per_sample, sample_weight, scale)


#: The regression heads by ``loss``; the regressor's constraint, persistence and the
#: skops trusted types read this table, ONNX export each head's ``onnx_op``.
REGRESSION_HEADS = {"squared_error": IdentitySquaredError, "poisson": ExpPoissonDeviance}
