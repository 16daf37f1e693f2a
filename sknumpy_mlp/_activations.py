"""Hidden-layer activations: each forward rule sits next to its derivative.

Every activation is a small stateless object with ``forward(z, out)`` and
``backward(z, a, delta)``. Both work in place on float32 or float64 arrays and
never change the dtype: constants are Python floats, which NumPy treats as
"weak" scalars, so ``float32 * 0.5`` stays float32.

Masked ufuncs (``where=``) and boolean indexing branch on every element and run
several times slower than branch-free arithmetic on random signs, so the
piecewise rules below are written with ``np.maximum``, ``np.minimum`` and
``np.sign`` instead.
"""

import math

import numpy as np
from scipy.special import erf, expit

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation:
    """Base class of the element-wise activations.

    Attributes
    ----------
    name : str
        Key of the activation in :data:`ACTIVATIONS`.
    needs_input : bool
        Whether :meth:`backward` reads the pre-activation ``z``. When False the
        derivative is a function of the output ``a = f(z)`` alone, so a layer
        may apply :meth:`forward` in place and keep only ``a``.
    """

    name = ""
    needs_input = False

    def forward(self, z, out=None):
        """Compute ``f(z)`` element-wise.

        Parameters
        ----------
        z : ndarray of float32 or float64
            Pre-activation.
        out : ndarray of the same shape and dtype, default=None
            Destination; may be ``z`` itself. A new array when None.

        Returns
        -------
        out : ndarray
            ``f(z)``, with the dtype of ``z``.
        """
        raise NotImplementedError

    def backward(self, z, a, delta):
        """Multiply ``delta`` in place by ``f'(z)`` element-wise.

        Parameters
        ----------
        z : ndarray or None
            Pre-activation. Read only when :attr:`needs_input` is True.
        a : ndarray
            Output ``f(z)`` of :meth:`forward`; not modified.
        delta : ndarray
            Gradient of the loss with respect to ``a``; overwritten with the
            gradient with respect to ``z``.

        Returns
        -------
        delta : ndarray
            The same array, now ``delta * f'(z)``.
        """
        raise NotImplementedError

    def to_onnx(self, g, x):
        """Add ``f(x)`` to an ONNX graph builder (:mod:`._onnx`); return its name."""
        return g.op(self.onnx_op, x, **self.onnx_attributes())

    def onnx_attributes(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(Activation):
    """Identity, ``f(z) = z``; the linear "no activation"."""

    name = "identity"
    onnx_op = "Identity"

    def forward(self, z, out=None):
        """Copy ``z`` into ``out`` (nothing to do when ``out is z``)."""
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, z, a, delta):
        """Leave ``delta`` unchanged.

        Notes
        -----
        .. math:: f'(z) = 1
        """
        return delta


class Logistic(Activation):
    """Logistic sigmoid, ``f(z) = 1 / (1 + exp(-z))`` (``scipy.special.expit``).

    References
    ----------
    .. [1] LeCun, Y., Bottou, L., Orr, G. B. and Müller, K.-R. (1998).
       "Efficient BackProp". In *Neural Networks: Tricks of the Trade*.
    """

    name = "logistic"
    onnx_op = "Sigmoid"

    def forward(self, z, out=None):
        """Write ``expit(z)`` into ``out``."""
        return expit(z, out=out)

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by ``a * (1 - a)``.

        Notes
        -----
        .. math:: f'(z) = f(z)\,(1 - f(z))

        The derivative is a function of the output alone, so ``z`` is not read;
        the two products are done in scikit-learn's order so results match it
        bit for bit.
        """
        delta *= a
        delta *= 1 - a
        return delta


class Tanh(Activation):
    """Hyperbolic tangent, ``f(z) = tanh(z)``.

    References
    ----------
    .. [1] LeCun, Y., Bottou, L., Orr, G. B. and Müller, K.-R. (1998).
       "Efficient BackProp". In *Neural Networks: Tricks of the Trade*.
    """

    name = "tanh"
    onnx_op = "Tanh"

    def forward(self, z, out=None):
        """Write ``tanh(z)`` into ``out``."""
        return np.tanh(z, out=out)

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by ``1 - a**2``.

        Notes
        -----
        .. math:: f'(z) = 1 - \tanh^2(z) = 1 - f(z)^2

        Reusing the output avoids a second ``tanh`` and lets the layer discard
        ``z`` after an in-place forward.
        """
        tmp = np.square(a)
        np.subtract(1, tmp, out=tmp)
        delta *= tmp
        return delta


class ReLU(Activation):
    """Rectified linear unit, ``f(z) = max(z, 0)``.

    References
    ----------
    .. [1] Nair, V. and Hinton, G. E. (2010). "Rectified linear units improve
       restricted Boltzmann machines". ICML.
    .. [2] Glorot, X., Bordes, A. and Bengio, Y. (2011). "Deep sparse rectifier
       neural networks". AISTATS.
    """

    name = "relu"
    onnx_op = "Relu"

    def forward(self, z, out=None):
        """Write ``max(z, 0)`` into ``out``."""
        return np.maximum(z, 0, out=out)

    def backward(self, z, a, delta):
        r"""Zero ``delta`` where the output is zero.

        Notes
        -----
        .. math:: f'(z) = \mathbb{1}[z > 0] = \mathbb{1}[f(z) \neq 0]

        As in scikit-learn the subgradient at :math:`z = 0` is taken as 0. The
        output is zero exactly where :math:`z \le 0`, so ``z`` is not read.
        Multiplying by the boolean mask (rather than ``delta[a == 0] = 0``)
        gives the same values (up to the sign of zero) without branching,
        several times faster.
        """
        np.multiply(delta, a != 0, out=delta)
        return delta


class LeakyReLU(Activation):
    """Leaky ReLU, ``f(z) = z`` for ``z > 0`` and ``0.01 z`` otherwise.

    References
    ----------
    .. [1] Maas, A. L., Hannun, A. Y. and Ng, A. Y. (2013). "Rectifier
       nonlinearities improve neural network acoustic models". ICML Workshop on
       Deep Learning for Audio, Speech and Language Processing.
    """

    name = "leaky_relu"
    onnx_op = "LeakyRelu"
    negative_slope = 0.01

    def onnx_attributes(self):
        return {"alpha": float(self.negative_slope)}

    def forward(self, z, out=None):
        """Write ``max(z, 0.01 z)`` into ``out``."""
        # For 0 < slope < 1, f(z) = max(z, slope * z).
        if out is None or np.may_share_memory(z, out):
            scaled = np.multiply(z, self.negative_slope)
            return np.maximum(z, scaled, out=out)
        np.multiply(z, self.negative_slope, out=out)
        return np.maximum(out, z, out=out)

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by 1 where ``a > 0`` and by the slope elsewhere.

        Notes
        -----
        .. math::

            f'(z) = \begin{cases} 1 & z > 0 \\ s & z \le 0 \end{cases}
            = \max(\operatorname{sign} f(z), s)

        with :math:`s = 0.01`. A positive slope keeps the sign of :math:`z` in
        the output, so ``z`` is not read.
        """
        tmp = np.sign(a)
        np.maximum(tmp, self.negative_slope, out=tmp)
        delta *= tmp
        return delta


def _exp_minus_one(neg):
    """``e^z - 1`` in place on ``neg`` (all ``z <= 0``), for ELU and SELU.

    ``np.expm1(neg)`` is the accurate formula; ``np.exp(neg) - 1`` is used instead:
    NumPy vectorizes ``exp`` but not ``expm1`` (measured, float32: 2.3 against 20 ns
    an element, most of a SELU layer's time). The price is an absolute error of at most
    one rounding of 1 (6e-8 in float32) where :math:`|e^z - 1|` is tiny, which is below
    the rounding of the sums of products the next layer forms from it.
    """
    np.exp(neg, out=neg)
    neg -= 1.0
    return neg


class ELU(Activation):
    """Exponential linear unit, ``f(z) = z`` for ``z > 0``, else ``alpha (e^z - 1)``.

    Parameters
    ----------
    alpha : float, default=1.0
        Value the output saturates to, as ``-alpha``, for very negative inputs.

    References
    ----------
    .. [1] Clevert, D.-A., Unterthiner, T. and Hochreiter, S. (2016). "Fast and
       accurate deep network learning by exponential linear units (ELUs)".
       ICLR.
    """

    name = "elu"
    onnx_op = "Elu"

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def onnx_attributes(self):
        return {"alpha": float(self.alpha)}

    def forward(self, z, out=None):
        """Write ``max(z, 0) + alpha * (exp(min(z, 0)) - 1)`` into ``out``.

        The plain formula is ``alpha * expm1(z)`` for ``z <= 0``; see
        :func:`_exp_minus_one` for why ``exp - 1`` (no masks, one temporary).
        """
        neg = _exp_minus_one(np.minimum(z, 0.0))
        if self.alpha != 1.0:
            neg *= self.alpha
        out = np.maximum(z, 0.0, out=out)
        out += neg
        return out

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by 1 where ``a > 0`` and by ``a + alpha`` elsewhere.

        Notes
        -----
        .. math::

            f'(z) = \begin{cases} 1 & z > 0 \\
            \alpha e^{z} = f(z) + \alpha & z \le 0 \end{cases}

        so the derivative comes from the output and ``z`` is not read. For
        :math:`\alpha = 1` both branches equal :math:`1 + \min(f(z), 0)`.
        """
        tmp = np.minimum(a, 0.0)
        tmp += self.alpha
        if self.alpha != 1.0:
            np.copyto(tmp, 1.0, where=a > 0)
        delta *= tmp
        return delta

    def __repr__(self):
        return f"ELU(alpha={self.alpha!r})"


class SELU(Activation):
    """Scaled exponential linear unit, ``f(z) = lambda z`` for ``z > 0``, else
    ``lambda alpha (e^z - 1)``.

    With the constants of [1]_ (``lambda ~ 1.0507``, ``alpha ~ 1.6733``) a zero-mean,
    unit-variance input keeps mean 0 and variance 1 through the unit
    ("self-normalizing"); RealMLP-TD uses it, made parametric, for classification.

    References
    ----------
    .. [1] Klambauer, G., Unterthiner, T., Mayr, A. and Hochreiter, S. (2017).
       "Self-normalizing neural networks". NeurIPS.
    """

    name = "selu"
    onnx_op = "Selu"
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def onnx_attributes(self):
        return {"alpha": float(self.alpha), "gamma": float(self.scale)}

    def forward(self, z, out=None):
        """Write ``lambda * max(z, 0) + lambda alpha * (exp(min(z, 0)) - 1)`` into ``out``.

        Plainly ``lambda * alpha * expm1(z)`` for ``z <= 0``; :func:`_exp_minus_one`
        says why ``exp - 1``.
        """
        neg = _exp_minus_one(np.minimum(z, 0.0))
        neg *= self.scale * self.alpha
        out = np.maximum(z, 0.0, out=out)
        out *= self.scale
        out += neg
        return out

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by ``lambda`` where ``a > 0`` and by ``a + lambda alpha``
        elsewhere.

        Notes
        -----
        .. math::

            f'(z) = \begin{cases} \lambda & z > 0 \\
            \lambda\alpha e^{z} = f(z) + \lambda\alpha & z \le 0 \end{cases}

        The output is positive exactly where the input is, so ``z`` is not read.

        Plainly ``where(a > 0, lambda, a + lambda alpha)``. Computed as
        ``min(a, 0) + lambda alpha - [a > 0] (lambda alpha - lambda)``: a masked
        assignment (``copyto(..., where=)``) costs more than the rest of the layer
        (float32, 256 x 256: 6-8 against 3-4 ns an element with it gone), a product
        with the mask does not. It is exact, the same bits: the gap
        ``lambda alpha - lambda`` is formed in the array's precision from the two
        rounded constants, without rounding as they are within a factor of 2 of each
        other (Sterbenz), so ``lambda alpha`` minus it is ``lambda`` again.
        """
        big, small = a.dtype.type(self.scale * self.alpha), a.dtype.type(self.scale)
        tmp = np.minimum(a, 0.0)
        tmp += big
        tmp -= np.greater(a, 0) * (big - small)
        delta *= tmp
        return delta


def _normal_cdf(z):
    """Return a new array holding the standard normal CDF of ``z``."""
    cdf = np.multiply(z, _INV_SQRT2)
    erf(cdf, out=cdf)
    cdf += 1.0
    cdf *= 0.5
    return cdf


def _gate_from_output(z, a, out=None):
    """Return ``g(z)`` for a gated unit ``f(z) = z g(z)`` with ``g(0) = 1/2`` (GELU, SiLU).

    Dividing the forward output by the input is several times cheaper than
    evaluating ``erf``, ``expit`` or ``tanh`` again. Where ``|z|`` is below the
    smallest normal number the quotient would lose precision, but there ``g(z)``
    equals ``g(0)`` to working precision.
    """
    if out is None:
        out = np.empty_like(z)
    regular = np.abs(z, out=out) >= np.finfo(z.dtype).tiny  # (n, m) bool
    out.fill(0.5)
    np.divide(a, z, out=out, where=regular)
    return out


class GELU(Activation):
    """Gaussian error linear unit, exact form ``f(z) = z Phi(z)``.

    ``Phi`` is the standard normal CDF, ``(1 + erf(z / sqrt(2))) / 2``, as in
    PyTorch's default ``GELU(approximate="none")``.

    References
    ----------
    .. [1] Hendrycks, D. and Gimpel, K. (2016). "Gaussian error linear units
       (GELUs)". arXiv:1606.08415.
    """

    name = "gelu"
    needs_input = True

    def to_onnx(self, g, x):
        # x * 0.5 * (1 + erf(x / sqrt(2))): the Gelu operator only exists from opset 20.
        t = g.op("Add", g.op("Erf", g.op("Mul", x, g.scalar(_INV_SQRT2))), g.scalar(1.0))
        return g.op("Mul", g.op("Mul", x, t), g.scalar(0.5))

    def forward(self, z, out=None):
        """Write ``z * Phi(z)`` into ``out``."""
        cdf = _normal_cdf(z)
        return np.multiply(z, cdf, out=cdf if out is None else out)

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by ``Phi(z) + z phi(z)``.

        Notes
        -----
        .. math::

            f'(z) = \Phi(z) + z\,\varphi(z), \qquad
            \varphi(z) = \frac{e^{-z^2/2}}{\sqrt{2\pi}}

        ``f`` is not monotonic, so the derivative needs ``z``; the costly
        :math:`\Phi(z)` is recovered from the output as :math:`f(z) / z`
        instead of calling ``erf`` again.
        """
        tmp = np.square(z)
        tmp *= -0.5
        np.exp(tmp, out=tmp)
        tmp *= z
        tmp *= _INV_SQRT_2PI  # z * phi(z)
        tmp += _gate_from_output(z, a)  # Phi(z)
        delta *= tmp
        return delta


class SiLU(Activation):
    """Sigmoid-weighted linear unit (swish), ``f(z) = z sigma(z)``.

    References
    ----------
    .. [1] Elfwing, S., Uchibe, E. and Doya, K. (2018). "Sigmoid-weighted linear
       units for neural network function approximation in reinforcement
       learning". Neural Networks, 107, 3-11.
    .. [2] Hendrycks, D. and Gimpel, K. (2016). "Gaussian error linear units
       (GELUs)". arXiv:1606.08415.
    """

    name = "silu"
    needs_input = True

    def to_onnx(self, g, x):
        return g.op("Mul", x, g.op("Sigmoid", x))

    def forward(self, z, out=None):
        """Write ``z * expit(z)`` into ``out``."""
        sig = expit(z)
        return np.multiply(z, sig, out=sig if out is None else out)

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by ``sigma(z) (1 + z - a)``.

        Notes
        -----
        .. math::

            f'(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z))
            = \sigma(z)\,(1 + z - f(z))

        ``f`` is not monotonic, so the derivative needs ``z``; the second form
        and :math:`\sigma(z) = f(z) / z` reuse the output instead of calling
        ``expit`` again.
        """
        tmp = np.subtract(z, a)
        tmp += 1.0
        delta *= tmp
        delta *= _gate_from_output(z, a, out=tmp)  # sigma(z)
        return delta


#: Mish's gate is 1 to float64 precision well before this; it keeps ``e^{2z}`` finite
#: in float32 (``e^80`` is 5.5e34, float32 overflows at 3.4e38).
_MISH_Z_MAX = 40.0


def _mish_terms(z):
    """``n = e^z`` and ``p = n (n + 2)``, with ``z`` clipped at ``_MISH_Z_MAX``."""
    n = np.minimum(z, _MISH_Z_MAX)
    np.exp(n, out=n)
    p = n + 2.0
    p *= n
    return n, p


class Mish(Activation):
    r"""Mish, ``f(z) = z tanh(softplus(z))`` with ``softplus(z) = log(1 + e^z)``.

    A smooth, non-monotonic unit close to SiLU; RealMLP-TD uses it, made parametric,
    for regression.

    Notes
    -----
    With :math:`n = e^z`, :math:`\tanh(\log(1 + n)) = ((1+n)^2 - 1) / ((1+n)^2 + 1)`, so

    .. math::

        t(z) = \tanh(\operatorname{softplus}(z)) = \frac{p}{p + 2}, \qquad
        p = n (n + 2),

    one ``exp`` and a division instead of ``exp``, ``log1p`` and ``tanh`` (NumPy
    vectorizes ``exp`` but not ``log1p``: float32, 5 against 27 ns an element). It
    neither overflows (``z`` is clipped at 40, where :math:`t = 1` to float64
    precision) nor loses the tiny values of very negative ``z`` (:math:`p` keeps its
    relative precision as :math:`n \to 0`).

    References
    ----------
    .. [1] Misra, D. (2020). "Mish: a self regularized non-monotonic activation
       function". BMVC.
    """

    name = "mish"
    needs_input = True

    def to_onnx(self, g, x):
        return g.op("Mul", x, g.op("Tanh", g.op("Softplus", x)))

    def forward(self, z, out=None):
        """Write ``z * t(z)``, ``t = p / (p + 2)`` (plainly ``z * tanh(softplus(z))``)."""
        n, p = _mish_terms(z)
        np.add(p, 2.0, out=n)
        np.divide(p, n, out=p)  # t
        return np.multiply(z, p, out=p if out is None else out)

    def backward(self, z, a, delta):
        r"""Multiply ``delta`` by ``t + z sigma(z) (1 - t^2)``, ``t = tanh(softplus(z))``.

        Notes
        -----
        With :math:`t(z) = \tanh(\operatorname{softplus}(z))` and
        :math:`\operatorname{softplus}'(z) = \sigma(z)`, the logistic sigmoid:

        .. math::

            f'(z) = t(z) + z\,\sigma(z)\,\bigl(1 - t(z)^2\bigr).

        In the terms of the class notes (:math:`d = p + 2`): :math:`\sigma = n / (1 + n)`
        and :math:`1 - t^2 = 4 (n + 1)^2 / d^2`, so

        .. math::

            f'(z) = \frac{p}{d} + \frac{4 z\, n (n + 1)}{d^2},

        with no cancellation anywhere (the plain :math:`1 - t^2` loses digits as
        :math:`t \to 1`). ``f`` is not monotonic, so the derivative needs ``z``.
        """
        n, p = _mish_terms(z)
        d = p + 2.0
        np.divide(p, d, out=p)  # t
        q = n + 1.0
        q *= n  # n (n + 1)
        q /= d
        q /= d
        q *= z
        q *= 4.0
        q += p
        delta *= q
        return delta


ACTIVATIONS = {
    act.name: act
    for act in (
        Identity(),
        Logistic(),
        Tanh(),
        ReLU(),
        LeakyReLU(),
        ELU(),
        SELU(),
        GELU(),
        SiLU(),
        Mish(),
    )
}


def get_activation(name):
    """Return the shared activation instance registered under ``name``.

    Parameters
    ----------
    name : str
        One of the keys of :data:`ACTIVATIONS`.

    Returns
    -------
    activation : Activation

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.

    Examples
    --------
    >>> import numpy as np
    >>> get_activation("relu").forward(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {valid}."
        ) from None
