"""Learning-rate schedules as small pure functions, and the stateful learning rate.

``progress`` is the number of epochs completed before the current step, as a
float (``3.5`` = halfway through the fourth epoch) and ``total`` is the number
of epochs of the run (``max_iter``). Each function returns the learning rate
for the step about to be taken. scikit-learn's ``"adaptive"`` rule (divide by
5 on a plateau) depends on the loss history: :class:`LearningRate` carries it, and
the training loop decides when to call it.
"""

import math
from typing import NamedTuple

__all__ = [
    "LEARNING_RATES",
    "SCHEDULES",
    "LearningRate",
    "Rate",
    "constant",
    "cosine",
    "exponential",
    "invscaling",
    "learning_rate_at",
    "warmup",
]

# Fraction of the initial learning rate the exponential schedule ends at.
_EXPONENTIAL_FINAL_FRACTION = 0.01


def constant(lr, progress, total):
    """Return ``lr`` unchanged.

    Parameters
    ----------
    lr : float
        Initial learning rate.
    progress : float
        Epochs completed (unused).
    total : float
        Epochs in the run (unused).

    Returns
    -------
    lr : float
        The learning rate.
    """
    return lr


def cosine(lr, progress, total):
    r"""Half-cosine decay from ``lr`` to 0 at ``progress == total``.

    Parameters
    ----------
    lr : float
        Initial learning rate.
    progress : float
        Epochs completed; values past ``total`` are clipped to ``total``.
    total : float
        Epochs in the run, ``> 0``.

    Returns
    -------
    lr : float
        :math:`\eta \cdot \tfrac12 (1 + \cos(\pi \min(p, T) / T))`.

    References
    ----------
    Loshchilov, I. and Hutter, F. (2017). SGDR: Stochastic gradient descent
    with warm restarts. ICLR. :arxiv:`1608.03983`.
    """
    return lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, total) / total))


def exponential(lr, progress, total):
    r"""Exponential decay from ``lr`` to ``0.01 * lr`` at ``progress == total``.

    Parameters
    ----------
    lr : float
        Initial learning rate.
    progress : float
        Epochs completed; values past ``total`` are clipped to ``total``.
    total : float
        Epochs in the run, ``> 0``.

    Returns
    -------
    lr : float
        :math:`\eta \cdot 0.01^{\min(p, T) / T}`.
    """
    return lr * _EXPONENTIAL_FINAL_FRACTION ** (min(progress, total) / total)


def invscaling(lr, t_samples, power_t):
    r"""scikit-learn's inverse scaling, ``lr / (t_samples + 1) ** power_t``.

    Parameters
    ----------
    lr : float
        Initial learning rate (``learning_rate_init``).
    t_samples : int
        Training samples seen so far (scikit-learn's ``t_``; it updates the
        rate at the end of each epoch).
    power_t : float
        Exponent of the decay.

    Returns
    -------
    lr : float
        :math:`\eta / (t + 1)^{p}`.
    """
    return float(lr) / (t_samples + 1) ** power_t


def warmup(lr, progress, warmup_iter):
    r"""Linear warm-up, ``lr * min(1, (progress + 1) / (warmup_iter + 1))``.

    nanoGPT's ``(it + 1) / (warmup_iters + 1)`` ramp with epochs as the unit:
    the very first step (``progress == 0``) gets ``lr / (warmup_iter + 1)``,
    never 0, the rate grows linearly in ``progress`` and reaches ``lr``
    exactly at ``progress == warmup_iter``, after which it stays there.

    Parameters
    ----------
    lr : float
        Learning rate to warm up to.
    progress : float
        Epochs completed before the current step.
    warmup_iter : float
        Length of the warm-up in epochs, ``>= 0``; ``0`` disables it.

    Returns
    -------
    lr : float
        :math:`\eta \min(1, (p + 1) / (W + 1))`.
    """
    return lr * min(1.0, (progress + 1.0) / (warmup_iter + 1.0))


#: The decay shapes, pure functions of ``(lr, progress, total)``.
SCHEDULES = {"constant": constant, "cosine": cosine, "exponential": exponential}


class Rate(NamedTuple):
    """One value of the estimators' ``learning_rate``.

    Attributes
    ----------
    decay : str
        Its shape within a run, a key of :data:`SCHEDULES`, evaluated at every step.
    epoch_rule : callable or None
        ``rule(lr_init, t_samples, power_t)``, the new base rate after each epoch.
    plateau : bool
        Whether the rate is divided by 5 when the training loss stops improving.
    solvers : tuple or None
        The solvers its ``epoch_rule`` and ``plateau`` act for; None for all.
    reads : tuple
        The estimator parameters it reads besides ``learning_rate_init``.
    """

    decay: str
    epoch_rule: object = None
    plateau: bool = False
    solvers: tuple | None = None
    reads: tuple = ()


#: Every ``learning_rate``: scikit-learn's three, then ours. The constraints and the
#: CLI read this table, :class:`LearningRate` follows it.
LEARNING_RATES = {
    "constant": Rate("constant"),
    "invscaling": Rate("constant", epoch_rule=invscaling, solvers=("sgd",),
                       reads=("power_t",)),
    "adaptive": Rate("constant", plateau=True, solvers=("sgd",),
                     reads=("tol", "n_iter_no_change")),
    "cosine": Rate("cosine", reads=("max_iter",)),
    "exponential": Rate("exponential", reads=("max_iter",)),
}


def learning_rate_at(name, lr, progress, total, warmup_iter=0):
    """Learning rate of the step taken at ``progress``: warm-up, then decay.

    During warm-up the decay schedule is evaluated at the same ``progress``
    (it is not shifted), so the two factors simply multiply.

    Parameters
    ----------
    name : {"constant", "cosine", "exponential"}
        Decay schedule, a key of :data:`SCHEDULES`.
    lr : float
        Initial learning rate.
    progress : float
        Epochs completed before the current step.
    total : float
        Epochs in the run, ``> 0``.
    warmup_iter : float, default=0
        Warm-up length in epochs, see :func:`warmup`; ``0`` disables it.

    Returns
    -------
    lr : float
        The learning rate for this step.

    Examples
    --------
    >>> learning_rate_at("cosine", 0.1, progress=5, total=10)
    0.05
    >>> learning_rate_at("constant", 0.1, progress=0, total=10, warmup_iter=3)
    0.025
    """
    try:
        schedule = SCHEDULES[name]
    except KeyError:
        raise ValueError(
            f"Unknown schedule {name!r}; expected one of {sorted(SCHEDULES)}."
        ) from None
    if warmup_iter < 0:
        raise ValueError(f"warmup_iter must be >= 0, got {warmup_iter}.")
    if warmup_iter > 0:
        lr = warmup(lr, progress, warmup_iter)
    return schedule(lr, progress, total)


class LearningRate:
    """The learning rate of the next step: schedule, warm-up and plateau reductions.

    ``"constant"``, ``"invscaling"`` and ``"adaptive"`` keep scikit-learn's meaning
    (the last two act for ``solver="sgd"`` only, as in scikit-learn); ``"cosine"`` and
    ``"exponential"`` decay over ``max_iter`` epochs for every stochastic solver.
    """

    def __init__(self, name, lr_init, *, solver, power_t, max_iter, warmup_iter):
        self.name = name
        self.lr_init = float(lr_init)
        self.base = float(lr_init)
        self.solver = solver
        self.power_t = power_t
        self.max_iter = max_iter
        self.warmup_iter = warmup_iter
        self.epochs_done = 0  # schedule clock; survives partial_fit calls, not refits

    @property
    def _rule(self):
        """The :data:`LEARNING_RATES` entry, when it acts for this solver, else None."""
        rate = LEARNING_RATES[self.name]
        return rate if rate.solvers is None or self.solver in rate.solvers else None

    @property
    def has_plateau_rule(self):
        """Whether it is lowered on a plateau (``"adaptive"``, for sgd only)."""
        return self._rule is not None and self._rule.plateau

    def at(self, progress):
        """Learning rate at ``progress`` epochs into training (a float)."""
        return learning_rate_at(LEARNING_RATES[self.name].decay, self.base, progress,
                                self.max_iter, self.warmup_iter)

    def epoch_end(self, t_samples):
        """Advance the clock; ``invscaling`` is ``lr_init / (t + 1) ** power_t``."""
        self.epochs_done += 1
        rule = self._rule
        if rule is not None and rule.epoch_rule is not None:
            self.base = rule.epoch_rule(self.lr_init, t_samples, self.power_t)

    def reduce_on_plateau(self):
        """scikit-learn's ``adaptive``: divide by 5; False when it is time to stop."""
        if not self.has_plateau_rule or self.base <= 1e-6:
            return False
        self.base /= 5.0
        return True
