"""Time of one ``optimizer.step`` on a flat buffer, optionally against another version.

Run from the repository root::

    python benchmarks/bench_optimizers.py                 # this tree's optimizers
    git show HEAD~1:sknumpy_mlp/_optimizers.py > /tmp/old_optimizers.py
    python benchmarks/bench_optimizers.py --against /tmp/old_optimizers.py

Sizes: 235,146 parameters (784-256-128-10, the Fashion-MNIST network) and 10,110
(scikit-learn's default 100 hidden units on 64 features, like digits). The two
versions run in alternation, ``--repeats`` rounds of many steps each, so that both
see the same machine load; the table shows each one's median microseconds per step,
their ratio, and whether their parameters are still bit-identical at the end. Use
one BLAS thread (``OMP_NUM_THREADS=1``) for steadier numbers.
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the working tree

from sknumpy_mlp import _optimizers  # noqa: E402

SIZES = (235_146, 10_110)
KINDS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSProp"}


def load_module(path):
    """Import a copy of ``_optimizers.py`` from ``path`` under its own name."""
    spec = importlib.util.spec_from_file_location("optimizers_against", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_steps(modules, kind, n, dtype, repeats):
    """Median microseconds per step for each module, and whether all agree bitwise."""
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(4)]
    start = rng.standard_normal(n).astype(dtype)
    kwargs = {"n_decay": n * 9 // 10} if kind == "adamw" else {}
    runs = [(getattr(m, KINDS[kind])(n, dtype, **kwargs), start.copy()) for m in modules]
    steps = max(10, 2_000_000 // n)
    times = [[] for _ in modules]
    for r in range(repeats):
        order = range(len(runs)) if r % 2 == 0 else reversed(range(len(runs)))
        for i in order:
            optimizer, params = runs[i]
            tic = time.perf_counter()
            for s in range(steps):
                optimizer.step(params, grads[s % 4], 1e-3)
            times[i].append((time.perf_counter() - tic) / steps * 1e6)
    same = all(np.array_equal(p, runs[0][1]) for _, p in runs)
    return [float(np.median(t)) for t in times], same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="path of another _optimizers.py to compare")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--solvers", default="adam,adamw,rmsprop,sgd")
    parser.add_argument("--dtypes", default="float64,float32")
    args = parser.parse_args(argv)

    modules = [_optimizers] + ([load_module(args.against)] if args.against else [])
    header = f"{'solver':8s} {'n_params':>8s} {'dtype':8s} {'this us':>9s}"
    if args.against:
        header += f" {'other us':>9s} {'this/other':>10s} identical"
    print(header)
    for kind in args.solvers.split(","):
        for n in SIZES:
            for dtype in args.dtypes.split(","):
                medians, same = time_steps(modules, kind, n, dtype, args.repeats)
                row = f"{kind:8s} {n:8d} {dtype:8s} {medians[0]:9.1f}"
                if args.against:
                    row += f" {medians[1]:9.1f} {medians[0] / medians[1]:10.3f} {same}"
                print(row)


if __name__ == "__main__":
    main()
