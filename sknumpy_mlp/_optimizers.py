"""Stochastic optimizers that update one flat parameter buffer in place.

Every parameter of the network lives in one contiguous 1-D array ``params``
and its gradient in a matching ``grads`` array, so a step is a handful of
in-place ufunc calls on two vectors. Scratch space is allocated once in
``__init__``; ``step`` itself allocates no arrays. The learning rate is an
argument of ``step``: the schedule is a separate object.

The steps trade some plainness for speed: they run block by block, write into
preallocated buffers and pass their scalars as 0-d arrays. Each step's
docstring gives its formula in Notes, and ``tests/test_optimizers.py`` holds
the plain whole-array version (``reference_step``) that every step must match
bit for bit.
"""

import math
from typing import NamedTuple

import numpy as np

__all__ = ["SOLVERS", "SGD", "Adam", "AdamW", "RMSProp", "Solver", "make_optimizer"]

#: Bytes per array in one block of a step. A step is a dozen elementwise passes; run
#: over the whole buffer, each pass streams every array through the cache again (a
#: (256, 128) MLP on 784 features has 235k parameters: 1.9 MB per float64 array).
#: Block by block, the few arrays a step touches stay in cache between passes, and
#: every element still sees exactly the same operations in the same order, so the
#: results are bit-identical. Measured (2-core EPYC, benchmarks/bench_optimizers.py):
#: blocks help by ~10% when the arrays arrive cold, any size from 128 KiB to 1 MiB
#: does about as well, and much smaller blocks lose to the ~1 us each ufunc call
#: costs. What remains is the passes themselves: a float64 Adam step is 12 of them
#: (sqrt alone ~30%), none of which can be fused in NumPy without changing rounding.
BLOCK_BYTES = 1 << 18

#: How many scalars a step may pass to its ufuncs (see ``_FlatOptimizer._scalars``).
_N_SCALARS = 10


class _FlatOptimizer:
    """Shared plumbing: blocks, scalars, state (de)serialisation, pickling.

    Subclasses list the attributes that make up their resumable state in
    ``_state_names``; ``_scratch_names`` holds preallocated block-sized work
    buffers that are rebuilt on unpickling rather than stored.
    """

    _state_names = ()
    #: Rebuilt by ``_alloc_scratch`` and never pickled, like the work buffers.
    _scalar_names = ("_scalar_buf", "_scalar_views")

    #: scikit-learn's ``_optimizer.learning_rate``: the base step size of the next step
    #: (before Adam's or RMSProp's per-parameter scaling). ``step`` does not read it; the
    #: training loop sets it from its schedule, for code that reads it after ``fit``.
    learning_rate = None

    def __init__(self, n_params, dtype):
        self.n_params = int(n_params)
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise ValueError(f"dtype must be a floating dtype, got {self.dtype}.")
        if self.n_params < 0:
            raise ValueError(f"n_params must be >= 0, got {self.n_params}.")
        self._scratch_names = ("_buf",)

    def _zeros(self):
        return np.zeros(self.n_params, dtype=self.dtype)

    def _alloc_scratch(self):
        size = min(self.n_params, max(1, BLOCK_BYTES // self.dtype.itemsize))
        for name in self._scratch_names:
            setattr(self, name, np.empty(size, dtype=self.dtype))
        self._scalar_buf = np.empty(_N_SCALARS, dtype=self.dtype)
        self._scalar_views = tuple(self._scalar_buf[i, ...] for i in range(_N_SCALARS))

    def _blocks(self, *arrays):
        """Yield ``(start, views)`` for each block of ``[0, n_params)``.

        ``views`` holds the block's slice of each of ``arrays`` (all of length
        ``n_params``; None stays None), then the scratch buffers cut to the block's
        length.
        """
        scratch = tuple(getattr(self, name) for name in self._scratch_names)
        block = len(scratch[0])
        if self.n_params <= block:  # one block (a small network): no slicing
            yield 0, arrays + scratch
            return
        for start in range(0, self.n_params, block):
            stop = min(start + block, self.n_params)
            yield (
                start,
                (
                    *(None if a is None else a[start:stop] for a in arrays),
                    *(s[: stop - start] for s in scratch),
                ),
            )

    def _scalars(self, *values):
        """``values`` as 0-d arrays of the buffer's dtype, for this step's ufuncs.

        A ufunc takes a 0-d array ~0.5 us faster than a Python float, which it would
        convert on every call. The values are the same: a float32 0-d array holds the
        Python float rounded to float32, just as the ufunc would round it.
        """
        self._scalar_buf[: len(values)] = values
        return self._scalar_views[: len(values)]

    def state_dict(self):
        """Return the optimizer state as a dict of copied arrays and ints.

        Returns
        -------
        state : dict of str to ndarray or int
            Everything :meth:`load_state_dict` needs to resume training
            exactly. Hyperparameters are not included: they belong to the
            object that built the optimizer.
        """
        state = {}
        for name in self._state_names:
            value = getattr(self, name)
            state[name] = value.copy() if isinstance(value, np.ndarray) else value
        return state

    def load_state_dict(self, state):
        """Restore a state produced by :meth:`state_dict`.

        Arrays are copied into the existing buffers, which keep their dtype.

        Parameters
        ----------
        state : dict of str to ndarray or int
            The saved state. Scalars may be 0-d arrays (as after ``np.load``).
        """
        missing = set(self._state_names) - set(state)
        if missing:
            raise KeyError(f"state is missing {sorted(missing)}.")
        for name in self._state_names:
            current = getattr(self, name)
            if isinstance(current, np.ndarray):
                value = np.asarray(state[name])
                if value.shape != current.shape:
                    raise ValueError(
                        f"{name} has shape {value.shape}, expected {current.shape}."
                    )
                np.copyto(current, value, casting="same_kind")
            else:
                setattr(self, name, type(current)(state[name]))

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in (*self._scratch_names, *self._scalar_names):
            state.pop(name, None)
        state["dtype"] = self.dtype.str  # a plain string: skops trusts it by default
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.dtype = np.dtype(self.dtype)
        self._alloc_scratch()


class SGD(_FlatOptimizer):
    r"""Stochastic gradient descent with (Nesterov) momentum.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : dtype
        Floating dtype of the parameter buffer.
    momentum : float, default=0.9
        Momentum coefficient, ``>= 0``. ``0`` gives plain SGD.
    nesterov : bool, default=True
        Whether to use Nesterov's momentum.

    Attributes
    ----------
    velocity : ndarray of shape (n_params,)
        The momentum buffer.

    References
    ----------
    Sutskever, I., Martens, J., Dahl, G. and Hinton, G. (2013). On the
    importance of initialization and momentum in deep learning. ICML.
    """

    _state_names = ("velocity",)

    def __init__(self, n_params, dtype, *, momentum=0.9, nesterov=True):
        super().__init__(n_params, dtype)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = self._zeros()
        # A second buffer keeps the Nesterov update bit-identical to sklearn's.
        self._scratch_names = ("_buf", "_update") if self.nesterov else ("_buf",)
        self._alloc_scratch()

    def step(self, params, grads, lr):
        r"""Update ``params`` in place.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter buffer, updated in place.
        grads : ndarray of shape (n_params,)
            Gradient of the loss with respect to ``params``; not modified.
        lr : float
            Learning rate for this step.

        Notes
        -----
        As in scikit-learn's ``SGDOptimizer``, with momentum :math:`\mu`:

        .. math::

            v &\leftarrow \mu v - \eta g \\
            \theta &\leftarrow \theta + \mu v - \eta g
            \quad\text{(Nesterov)}, \qquad
            \theta \leftarrow \theta + v \quad\text{(otherwise)}.
        """
        lr, mu = self._scalars(lr, self.momentum)
        for _, (p, g, velocity, *scratch) in self._blocks(params, grads, self.velocity):
            lr_grad = np.multiply(g, lr, out=scratch[0])
            np.multiply(velocity, mu, out=velocity)
            np.subtract(velocity, lr_grad, out=velocity)
            if self.nesterov:
                update = np.multiply(velocity, mu, out=scratch[1])
                np.subtract(update, lr_grad, out=update)
            else:
                update = velocity
            np.add(p, update, out=p)


class Adam(_FlatOptimizer):
    r"""Adam: adaptive moment estimation, as in scikit-learn, with optional factors.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : dtype
        Floating dtype of the parameter buffer.
    beta_1 : float, default=0.9
        Decay rate of the first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of the second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.
    lr_factors : array-like of shape (n_params,) or None, default=None
        Per-parameter factors :math:`f` on the step size (RealMLP-TD's per-group
        learning rates). Since Adam's step ignores the gradient's scale, a factor on
        a weight matrix acts like a forward factor on it (the NTK parametrization).
        None: 1 everywhere, without the extra pass.
    bias_correction : {"step", "moments"}, default="step"
        Where the bias corrections go. ``"step"`` (scikit-learn) folds both into
        the step size; ``"moments"`` (Kingma & Ba's Algorithm 1, as PyTorch)
        corrects the moments, so that :math:`\epsilon` is added to
        :math:`\sqrt{\hat v}` rather than to :math:`\sqrt{v}`.

    Attributes
    ----------
    t : int
        Number of steps taken.
    m : ndarray of shape (n_params,)
        First-moment (mean) estimate of the gradient.
    v : ndarray of shape (n_params,)
        Second-moment (uncentred variance) estimate of the gradient.

    References
    ----------
    Kingma, D. P. and Ba, J. (2015). Adam: A method for stochastic
    optimization. ICLR. :arxiv:`1412.6980`.
    """

    _state_names = ("t", "m", "v")
    # Class defaults, so that optimizers pickled before these options load unchanged.
    lr_factors = None
    bias_correction = "step"
    #: What the decoupled weight decay reaches: nothing here (see AdamW).
    n_decay = 0
    wd_factors = None

    def __init__(self, n_params, dtype, *, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 lr_factors=None, bias_correction="step"):
        super().__init__(n_params, dtype)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        if bias_correction not in ("step", "moments"):
            raise ValueError("bias_correction must be 'step' or 'moments', "
                             f"got {bias_correction!r}.")
        self.bias_correction = bias_correction
        self.lr_factors = self._factors(lr_factors, "lr_factors")
        self.t = 0
        self.m = self._zeros()
        self.v = self._zeros()
        # Two buffers: sqrt(v) + eps and lr_t * m are both needed at once.
        self._scratch_names = ("_buf", "_update")
        self._alloc_scratch()

    def _factors(self, factors, name):
        """``factors`` as an owned vector over the buffer, or None."""
        if factors is None:
            return None
        factors = np.array(factors, dtype=self.dtype)
        if factors.shape != (self.n_params,):
            raise ValueError(
                f"{name} has shape {factors.shape}, expected ({self.n_params},)."
            )
        return factors

    def step(self, params, grads, lr):
        r"""Update ``params`` in place and increment ``t``.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter buffer, updated in place.
        grads : ndarray of shape (n_params,)
            Gradient of the loss with respect to ``params``; not modified.
        lr : float
            Learning rate for this step.

        Notes
        -----
        With factors :math:`f` (1 without ``lr_factors``) and, as in
        scikit-learn's ``AdamOptimizer``, the bias corrections folded into the
        step size :math:`\eta_t` (Kingma & Ba 2015, Section 2):

        .. math::

            t &\leftarrow t + 1 \\
            m &\leftarrow \beta_1 m + (1 - \beta_1) g \\
            v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
            \eta_t &= \eta \sqrt{1 - \beta_2^t} / (1 - \beta_1^t) \\
            \theta &\leftarrow \theta - f \, \eta_t m / (\sqrt{v} + \epsilon).

        With ``bias_correction="moments"`` the last two lines are instead

        .. math::

            \hat m = m / (1 - \beta_1^t), \quad \hat v = v / (1 - \beta_2^t), \qquad
            \theta \leftarrow \theta - \eta f \, \hat m / (\sqrt{\hat v} + \epsilon),

        the same step with :math:`\epsilon` scaled by :math:`\sqrt{1 - \beta_2^t}`.
        """
        self._adam_step(params, grads, lr, 0.0)

    def _adam_step(self, params, grads, lr, decay_rate):
        """Adam's step, after decaying ``params`` at ``decay_rate`` (AdamW's lr * wd)."""
        self.t += 1
        b1, b2, lr = self.beta_1, self.beta_2, float(lr)
        moments = self.bias_correction == "moments"
        if moments:  # v-hat's correction divides sqrt(v), m-hat's joins the rate
            v_scale, lr_t = math.sqrt(1 - b2**self.t), lr / (1 - b1**self.t)
        else:
            v_scale, lr_t = 1.0, lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        wd_factors = self.wd_factors if decay_rate else None
        n_decay = self.n_decay if decay_rate and wd_factors is None else 0
        # The factor of params[:n_decay], or with wd_factors d: params *= d * decay + 1.
        decay = -decay_rate if wd_factors is not None else 1.0 - decay_rate
        # c1 = 1 - beta_1 and c2 = 1 - beta_2, as 0-d arrays like the others.
        b1, c1, b2, c2, eps, lr_t, v_scale, decay, one = self._scalars(
            b1, 1 - b1, b2, 1 - b2, self.epsilon, lr_t, v_scale, decay, 1.0
        )
        blocks = self._blocks(params, grads, self.m, self.v, self.lr_factors, wd_factors)
        for start, (p, g, m, v, f, d, buf, update) in blocks:
            if d is not None:  # AdamW: the weights decay before the update
                np.add(np.multiply(d, decay, out=buf), one, out=buf)
                np.multiply(p, buf, out=p)
            elif start < n_decay:
                weights = p[: n_decay - start]
                np.multiply(weights, decay, out=weights)
            np.multiply(m, b1, out=m)
            np.add(m, np.multiply(g, c1, out=buf), out=m)
            np.square(g, out=buf)
            np.multiply(buf, c2, out=buf)
            np.multiply(v, b2, out=v)
            np.add(v, buf, out=v)
            denom = np.sqrt(v, out=buf)
            # update: (m / (sqrt(v_hat) + eps)) f lr_t, else (lr_t m / (sqrt(v) + eps)) f
            if moments:
                np.divide(denom, v_scale, out=denom)
                np.add(denom, eps, out=denom)
                np.divide(m, denom, out=update)
            else:
                np.add(denom, eps, out=denom)
                np.multiply(m, lr_t, out=update)
                np.divide(update, denom, out=update)
            if f is not None:
                np.multiply(update, f, out=update)
            if moments:
                np.multiply(update, lr_t, out=update)
            np.subtract(p, update, out=p)


class AdamW(Adam):
    r"""Adam with decoupled weight decay on the weight matrices only.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : dtype
        Floating dtype of the parameter buffer.
    beta_1 : float, default=0.9
        Decay rate of the first-moment estimate, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay rate of the second-moment estimate, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0.01
        Decoupled weight-decay coefficient :math:`\lambda`; :meth:`step` may
        override it for one step (a schedule).
    n_decay : int or None, default=None
        Only ``params[:n_decay]`` (the weight matrices, which come first in the
        buffer) are decayed; intercepts and batch-norm parameters are not.
        ``None`` decays every entry.
    lr_factors : array-like of shape (n_params,) or None, default=None
        Per-parameter factors on the step size, as in :class:`Adam`.
    wd_factors : array-like of shape (n_params,) or None, default=None
        Per-parameter factors :math:`d` on the decay, in place of ``n_decay``:
        entry :math:`i` decays at the rate :math:`\eta \lambda d_i`.
    bias_correction : {"step", "moments"}, default="step"
        Where the bias corrections go, as in :class:`Adam`.

    Attributes
    ----------
    t : int
        Number of steps taken.
    m : ndarray of shape (n_params,)
        First-moment (mean) estimate of the gradient.
    v : ndarray of shape (n_params,)
        Second-moment (uncentred variance) estimate of the gradient.

    References
    ----------
    Loshchilov, I. and Hutter, F. (2019). Decoupled weight decay
    regularization. ICLR. :arxiv:`1711.05101`.
    """

    def __init__(
        self,
        n_params,
        dtype,
        *,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.01,
        n_decay=None,
        lr_factors=None,
        wd_factors=None,
        bias_correction="step",
    ):
        super().__init__(n_params, dtype, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         lr_factors=lr_factors, bias_correction=bias_correction)
        self.weight_decay = float(weight_decay)
        if wd_factors is not None and n_decay is not None:
            raise ValueError("Give n_decay or wd_factors, not both.")
        self.wd_factors = self._factors(wd_factors, "wd_factors")
        self.n_decay = self.n_params if n_decay is None else int(n_decay)
        if not 0 <= self.n_decay <= self.n_params:
            raise ValueError(
                f"n_decay must be in [0, {self.n_params}], got {self.n_decay}."
            )

    def step(self, params, grads, lr, weight_decay=None):
        r"""Decay the weights, then take an :class:`Adam` step.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter buffer, updated in place.
        grads : ndarray of shape (n_params,)
            Gradient of the loss with respect to ``params``; not modified.
        lr : float
            Learning rate for this step; it also scales the decay.
        weight_decay : float or None, default=None
            This step's :math:`\lambda`, when it follows a schedule; None uses
            the ``weight_decay`` given at construction.

        Notes
        -----
        The decay is applied before the Adam update, as in PyTorch, to the first
        ``n_decay`` entries :math:`W`, or with ``wd_factors`` :math:`d` to every
        entry at its own rate:

        .. math::

            W &\leftarrow (1 - \eta \lambda) W
            \quad\text{or}\quad \theta \leftarrow (1 - \eta \lambda d)\,\theta \\
            \theta &\leftarrow \mathrm{Adam}(\theta, g, \eta).
        """
        if weight_decay is None:
            weight_decay = self.weight_decay
        self._adam_step(params, grads, lr, float(lr) * float(weight_decay))


class RMSProp(_FlatOptimizer):
    r"""RMSProp with a bias-corrected running mean of squared gradients.

    Parameters
    ----------
    n_params : int
        Length of the flat parameter buffer.
    dtype : dtype
        Floating dtype of the parameter buffer.
    rho : float, default=0.999
        Decay rate of the running mean of squared gradients, in ``[0, 1)``.
        :func:`make_optimizer` takes it from the estimator's ``beta_2``.
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.

    Attributes
    ----------
    t : int
        Number of steps taken.
    v : ndarray of shape (n_params,)
        Running mean of squared gradients (before bias correction).

    References
    ----------
    Tieleman, T. and Hinton, G. (2012). Lecture 6.5 - RMSProp: divide the
    gradient by a running average of its recent magnitude. COURSERA: Neural
    Networks for Machine Learning.
    """

    _state_names = ("t", "v")

    def __init__(self, n_params, dtype, *, rho=0.999, epsilon=1e-8):
        super().__init__(n_params, dtype)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self.t = 0
        self.v = self._zeros()
        self._alloc_scratch()

    def step(self, params, grads, lr):
        r"""Update ``params`` in place and increment ``t``.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter buffer, updated in place.
        grads : ndarray of shape (n_params,)
            Gradient of the loss with respect to ``params``; not modified.
        lr : float
            Learning rate for this step.

        Notes
        -----
        Without the bias correction :math:`\hat v` the first steps would be
        :math:`1/\sqrt{1-\rho}` times too large, since :math:`v` starts at 0:

        .. math::

            t &\leftarrow t + 1 \\
            v &\leftarrow \rho v + (1 - \rho) g^2 \\
            \hat v &= v / (1 - \rho^t) \\
            \theta &\leftarrow \theta - \eta g / (\sqrt{\hat v} + \epsilon).
        """
        self.t += 1
        # c = 1 - rho; correction = 1 - rho^t.
        rho, c, correction, eps, lr = self._scalars(
            self.rho, 1 - self.rho, 1 - self.rho**self.t, self.epsilon, lr
        )
        for _, (p, g, v, buf) in self._blocks(params, grads, self.v):
            np.square(g, out=buf)
            np.multiply(buf, c, out=buf)
            np.multiply(v, rho, out=v)
            np.add(v, buf, out=v)
            denom = np.divide(v, correction, out=buf)
            np.sqrt(denom, out=denom)
            np.add(denom, eps, out=denom)
            update = np.divide(g, denom, out=buf)
            np.multiply(update, lr, out=update)
            np.subtract(p, update, out=p)


class Solver(NamedTuple):
    """One value of the estimators' ``solver``.

    Attributes
    ----------
    optimizer : type or None
        The class of the per-step update, built by :func:`make_optimizer`; None for
        the full-batch solver, which has a fit of its own (:mod:`._lbfgs`).
    reads : dict
        What only this solver reads: estimator parameter (or ``"n_decay"``, the
        network's count of decayed weights) -> keyword of ``optimizer`` (for lbfgs, of
        :func:`~._lbfgs.fit_lbfgs`).
    """

    optimizer: type | None
    reads: dict

    @property
    def stochastic(self):
        """Whether it steps on minibatches (and so has ``partial_fit``)."""
        return self.optimizer is not None

    @property
    def parameters(self):
        """The estimator parameters in :attr:`reads`."""
        return tuple(name for name in self.reads if name != "n_decay")


_ADAM = {"beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon"}

#: Every ``solver``, in the order help texts list them. The constraints, the CLI,
#: :func:`make_optimizer` and the skops trusted types read this table.
SOLVERS = {
    "adam": Solver(Adam, _ADAM),
    "adamw": Solver(AdamW, {**_ADAM, "weight_decay": "weight_decay", "n_decay": "n_decay"}),
    "rmsprop": Solver(RMSProp, {"beta_2": "rho", "epsilon": "epsilon"}),
    "sgd": Solver(SGD, {"momentum": "momentum", "nesterovs_momentum": "nesterov"}),
    # Full-batch: scipy's L-BFGS-B on the whole data set, no optimizer object and no
    # learning rate; the estimator fits it with _lbfgs.fit_lbfgs.
    "lbfgs": Solver(None, {"max_fun": "max_fun"}),
}


def make_optimizer(name, n_params, dtype, **params):
    """Build the optimizer of a stochastic solver from the estimator's parameters.

    Parameters
    ----------
    name : str
        A stochastic solver, a key of :data:`SOLVERS` (``"adam"``, ``"sgd"``, ...).
    n_params : int
        Length of the flat parameter buffer.
    dtype : dtype
        Floating dtype of the parameter buffer.
    **params
        At least the parameters the solver reads (``SOLVERS[name].reads``), e.g.
        ``momentum`` and ``nesterovs_momentum`` for ``"sgd"``, ``beta_2`` (as
        ``rho``) and ``epsilon`` for ``"rmsprop"``, and ``n_decay``, the number of
        leading buffer entries (the weights) ``"adamw"`` decays; others are ignored.

    Returns
    -------
    optimizer : SGD, Adam, AdamW or RMSProp
        A fresh optimizer with zeroed state.
    """
    solver = SOLVERS.get(name) if isinstance(name, str) else None
    if solver is None or not solver.stochastic:
        stochastic = [repr(n) for n, s in SOLVERS.items() if s.stochastic]
        raise ValueError(f"Unknown optimizer {name!r}; expected one of "
                         f"{', '.join(stochastic)}.")
    kwargs = {key: params[param] for param, key in solver.reads.items()}
    return solver.optimizer(n_params, dtype, **kwargs)
