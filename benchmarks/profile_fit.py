"""Where one epoch of MLPScratchClassifier.fit spends its time, phase by phase.

Run from the repository root::

    python benchmarks/profile_fit.py                        # Fashion-MNIST if installed
    python benchmarks/profile_fit.py --hidden 1024,512 --batch-size 256 \\
        --dropout 0.3 --batch-norm --solver adamw           # a wide, regularized net

It wraps the training loop's methods with timers (a few microseconds each, nothing
else changes), runs one warm-up fit on 512 rows and one timed epoch, and prints the
seconds spent in each phase next to ``gemm floor``: the time the epoch's matrix
products alone take at the BLAS speed measured on this machine just before. What the
phases add above that floor is overhead to hunt.
"""

import argparse
import collections
import functools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the working tree

from sknumpy_mlp import (  # noqa: E402
    MLPScratchClassifier,
    _batch_norm,
    _layers,
    _losses,
    _network,
    _optimizers,
    _training,
    datasets,
)

PHASES = [  # (object, method, label); nested phases are also counted in their parent
    (_training.StochasticTrainer, "run_epoch", "epoch"),
    (_training.StochasticTrainer, "step", "  step (one batch)"),
    (_network.Network, "forward", "    forward"),
    (_layers.Dense, "forward", "      dense (GEMM + bias)"),
    (_batch_norm.BatchNorm, "forward", "      batch norm (forward)"),
    (_layers.ActivationLayer, "forward", "      activation (forward)"),
    (_layers.Dropout, "sample_mask", "      dropout masks"),
    (_losses.SoftmaxCrossEntropy, "loss_and_grad", "    softmax + cross-entropy"),
    (_network.Network, "backward", "    backward"),
    (_layers.Dense, "backward", "      dense (GEMMs + bias sum)"),
    (_batch_norm.BatchNorm, "backward", "      batch norm (backward)"),
    (_layers.ActivationLayer, "backward", "      activation (backward)"),
    (_optimizers.SGD, "step", "    optimizer"),
    (_optimizers.Adam, "step", "    optimizer"),
    (_optimizers.RMSProp, "step", "    optimizer"),
]


def instrument(seconds):
    """Wrap every method of PHASES so that it adds its run time to ``seconds``."""
    for owner, name, label in PHASES:
        method = owner.__dict__.get(name)
        if method is None:
            continue

        @functools.wraps(method)
        def timed(*args, _method=method, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                seconds[_label] += time.perf_counter() - start

        setattr(owner, name, timed)


def gemm_floor(layer_units, n_samples, batch_size, dtype):
    """Seconds the epoch's matrix products take alone, timed on this machine now.

    With as many BLAS threads as the fit itself uses (see ``blas_threads``).
    """
    with _training.blas_threads(layer_units, batch_size):
        return _gemm_seconds(layer_units, batch_size, dtype) * n_samples / batch_size


def _gemm_seconds(layer_units, batch_size, dtype):
    rng = np.random.default_rng(0)
    total = 0.0
    for i, (n_in, n_out) in enumerate(zip(layer_units[:-1], layer_units[1:])):
        a = rng.standard_normal((batch_size, n_in), dtype=dtype)
        w = rng.standard_normal((n_in, n_out), dtype=dtype)
        d = rng.standard_normal((batch_size, n_out), dtype=dtype)
        products = [lambda: a @ w, lambda: a.T @ d]  # forward, weight gradient
        if i > 0:
            products.append(lambda: d @ w.T)  # input gradient (not for the first layer)
        for product in products:
            product()
            start = time.perf_counter()
            for _ in range(20):
                product()
            total += (time.perf_counter() - start) / 20
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="256,128")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--solver", default="adam")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch-norm", action="store_true")
    parser.add_argument("--dataset", choices=["auto", "fashion", "digits"], default="auto")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="the data's dtype, which the network trains in")
    args = parser.parse_args(argv)

    folder = datasets.find_fashion_mnist() if args.dataset != "digits" else None
    if folder is not None:
        X, y, _, _ = datasets.load_idx_folder(folder)
        name = "Fashion-MNIST"
    elif args.dataset == "fashion":
        parser.error("Fashion-MNIST is not installed: "
                     "apt-get install dataset-fashion-mnist")
    else:
        X, y, _, _ = datasets.load_digits_split()
        X, name = X.astype(np.float32), "digits"
    X = X.astype(args.dtype, copy=False)
    hidden = tuple(int(h) for h in args.hidden.split(","))
    clf = MLPScratchClassifier(hidden, solver=args.solver, batch_size=args.batch_size,
                               dropout=args.dropout, batch_norm=args.batch_norm,
                               max_iter=1, random_state=0)
    warnings.simplefilter("ignore")
    clf.fit(X[:512], y[:512])  # warm-up: imports, BLAS threads, allocator

    seconds = collections.Counter()
    instrument(seconds)
    start = time.perf_counter()
    clf.fit(X, y)
    total = time.perf_counter() - start
    floor = gemm_floor([X.shape[1], *hidden, len(np.unique(y))], X.shape[0],
                       args.batch_size, X.dtype)

    print(f"{name} {X.shape[0]} x {X.shape[1]} {X.dtype}; hidden {hidden}, "
          f"{args.solver}, batch {args.batch_size}, dropout {args.dropout:g}, "
          f"batch_norm {args.batch_norm}; one epoch")
    print(f"{'fit':34s} {total:7.3f} s")
    for _, _, label in PHASES:
        if label in seconds:
            print(f"{label:34s} {seconds.pop(label):7.3f} s")
    print(f"{'gemm floor (products alone)':34s} {floor:7.3f} s")


if __name__ == "__main__":
    main()
