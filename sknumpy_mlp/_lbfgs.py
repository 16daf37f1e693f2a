"""Full-batch training with scipy's L-BFGS-B on the network's flat parameter buffer."""

import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._training import blas_threads


def fit_lbfgs(net, X, Y, sample_weight, *, alpha, label_smoothing, max_iter, max_fun,
              tol, reporter):
    """Minimize the full-batch objective with scipy's L-BFGS-B on the flat buffer.

    Our analytic :meth:`Network.loss_and_grad` is the objective and its Jacobian; the
    parameter vector is the network's own buffer (scipy works in float64, so each
    evaluation copies the iterate in and the gradient out). Returns
    ``(n_iter, loss, loss_curve)``, the curve holding the loss after each iteration.
    """
    ws = net.workspace(X.shape[0])
    curve, stopped = [], []

    def fun(x):
        net.params[...] = x
        with np.errstate(over="ignore", invalid="ignore"):
            loss = net.loss_and_grad(X, Y, ws, sample_weight=sample_weight, alpha=alpha,
                                     label_smoothing=label_smoothing)
        return loss, net.grads.astype(np.float64)

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun))
        net.params[...] = intermediate_result.x  # what a callback's estimator sees
        if reporter.lbfgs_iteration(len(curve), curve[-1]):
            stopped.append(True)
            raise StopIteration  # a callback asked to stop; scipy ends cleanly

    try:
        with blas_threads(net.layer_units, X.shape[0]):
            res = scipy.optimize.minimize(
                fun, net.params.astype(np.float64), method="L-BFGS-B", jac=True,
                callback=callback,
                options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
            )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
        reporter.close()
        return len(curve), (curve[-1] if curve else float("nan")), curve
    reporter.close()
    if stopped:
        reporter.message("A callback asked to stop. Stopping.")
    elif res.status != 0:
        warnings.warn(
            f"lbfgs failed to converge after {res.nit} iteration(s) "
            f"(status={res.status}):\n{res.message}\n\n"
            "Increase the number of iterations to improve the convergence "
            f"(max_iter={max_iter}).",
            ConvergenceWarning,
        )
    net.params[...] = res.x
    if net.batch_norm:  # running statistics = full-batch statistics at the optimum
        for bn in net.norms:
            bn.running_mean[...] = 0.0
            bn.running_var[...] = 1.0
        saved = [bn.momentum for bn in net.norms]
        for bn in net.norms:
            bn.momentum = 1.0
        net.forward(X, ws, training=True, sample_weight=sample_weight)
        for bn, m in zip(net.norms, saved):
            bn.momentum = m
    return min(res.nit, max_iter), float(res.fun), curve
