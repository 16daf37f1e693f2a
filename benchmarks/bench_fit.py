"""Fit and predict speed of MLPScratchClassifier next to scikit-learn and PyTorch.

Run from the repository root::

    python benchmarks/bench_fit.py --quick          # digits, seconds (CI smoke)
    python benchmarks/bench_fit.py                  # Fashion-MNIST, 3 epochs, 3 runs
    python benchmarks/bench_fit.py --scaling        # cost vs n_samples and width
    python benchmarks/bench_fit.py --layouts        # C/F arrays, DataFrames, dtypes
    python benchmarks/bench_fit.py --task regression          # MLPScratchRegressor
    python benchmarks/bench_fit.py --task regression --quick  # diabetes, seconds
    python benchmarks/bench_fit.py --json out.json  # also write every number

Settings (defaults): Fashion-MNIST 60,000 x 784 float32 when
``find_fashion_mnist()`` finds it, else scikit-learn's digits; hidden layers
(256, 128), ReLU, Adam with learning rate 1e-3, batch 128, L2 alpha 1e-4.

Contenders, each skipped with a message when it cannot be imported:

- ``ours``: ``sknumpy_mlp.MLPScratchClassifier``;
- ``sklearn``: ``sklearn.neural_network.MLPClassifier`` with the same settings,
  forced to run every epoch (``tol=0``, huge ``n_iter_no_change``);
- ``torch``: a plain PyTorch CPU loop (Linear-ReLU-Linear-ReLU-Linear, the same
  Glorot-uniform init as scikit-learn, Adam, cross-entropy plus scikit-learn's
  L2 term ``alpha / 2 * sum ||W||^2 / batch``, ``torch.randperm`` shuffling).

``--task regression`` races ``sknumpy_mlp.MLPScratchRegressor`` against
``sklearn.neural_network.MLPRegressor`` and the same PyTorch loop with one linear
output and scikit-learn's loss, half the mean squared error (plus the same L2
term). No R data package ships a regression table big enough to time, so the data
are scikit-learn's ``make_regression(40_000, 20, n_informative=10, noise=10)``
(``--quick``: the bundled diabetes data, 442 x 10), split 75/25 with a fixed seed,
features and target standardized on the training set; it reports ``predict``
time and test R^2 in place of ``predict_proba`` and accuracy.

``--layouts`` times the same fits on every input a user passes: C-ordered and
Fortran-ordered arrays and pandas DataFrames, float32 and float64, for a small
tabular network (scikit-learn's defaults: one hidden layer of 100, batch 200) on
R's Shuttle data (58,000 x 9, standardized; from Debian's ``r-cran-mlbench``
through ``rdata_sets.py``, else a synthetic 40,000 x 20 table) and for the
Fashion-MNIST network above. PyTorch gets ``DataFrame.to_numpy()`` for frames, as
a user would write it.

How it measures:

- Every (contender, repetition) runs in a fresh subprocess, and repetitions
  are interleaved (A B C, B C A, C A B, ...) so that drift in machine load
  hits all contenders alike. The median over repetitions is reported.
- In each subprocess the data are loaded and a one-epoch warm-up fit on 512
  rows primes imports, BLAS threads and allocators; then one timed fit runs
  (``time.perf_counter``, including model construction, as a scikit-learn
  ``fit`` does) and seconds per epoch = fit seconds / epochs run.
- ``predict_proba`` time: the median of 5 calls on the whole test set.
- CPU seconds per epoch (user + system time of all the process's threads):
  less sensitive than wall time when other programs compete for the cores.
- Peak memory: the growth of the process's resident set size (RSS) during the
  timed fit, i.e. its peak RSS during fit (Linux ``VmHWM``, reset just before
  the fit through ``/proc/self/clear_refs``) minus its RSS just before the
  fit, when the data are loaded and glibc has returned freed heap pages
  (``malloc_trim``). It is the fit's working memory beyond the input data, and
  counts every allocation that was touched (NumPy, PyTorch, allocator caches),
  not only Python's. Where ``clear_refs`` is not available it falls back to the
  growth of ``ru_maxrss``, which is then a lower bound (an earlier peak, e.g.
  while loading data, can hide it).
- BLAS and PyTorch are limited to ``--threads`` threads (default 2). Run on
  an otherwise idle machine: when other programs compete for the cores,
  multi-threaded wall times swing by 10x (threads wait for descheduled
  siblings at every BLAS or OpenMP barrier). On a busy machine, ``--threads 1``
  and the CPU-seconds column are the numbers to trust.
"""

import argparse
import ctypes
import ctypes.util
import gc
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmark the working tree, installed or not

CONTENDERS = ("ours", "sklearn", "torch")
RESULT_TAG = "BENCH_RESULT "
WARMUP_ROWS = 512
PREDICT_CALLS = 5
HUGE = 10**9  # n_iter_no_change that never triggers


# --------------------------------------------------------------------------- data
def datasets_module():
    """Return ``sknumpy_mlp.datasets``, even while the estimator is broken."""
    try:
        from sknumpy_mlp import datasets
    except Exception:  # the package __init__ imports the estimator
        path = REPO / "sknumpy_mlp" / "datasets.py"
        spec = importlib.util.spec_from_file_location("_bench_datasets", path)
        datasets = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(datasets)
    return datasets


def resolve_dataset(choice):
    """Map --dataset to ("fashion", folder) or ("digits", None)."""
    if choice == "digits":
        return "digits", None
    folder = datasets_module().find_fashion_mnist()
    if folder is not None:
        return "fashion", str(folder)
    if choice == "fashion":
        sys.exit("Fashion-MNIST not found (apt-get install dataset-fashion-mnist).")
    print("Fashion-MNIST not found; falling back to digits.", file=sys.stderr)
    return "digits", None


def load_table(dataset):
    """Shuttle (standardized, fixed 75/25 stratified split) or a synthetic table."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if dataset == "shuttle":
        from rdata_sets import load_r_dataset

        frame = load_r_dataset("mlbench", "Shuttle")
        X, y = frame.drop(columns="Class").to_numpy(float), frame["Class"].cat.codes
        y = y.to_numpy()
    else:
        from sklearn.datasets import make_classification

        X, y = make_classification(40_000, 20, n_informative=10, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def tabular_dataset():
    """'shuttle' when its R package (and rdata) can be had, else 'synthetic'."""
    try:
        import rdata  # noqa: F401
        from rdata_sets import package_data_dir

        package_data_dir("mlbench")
        return "shuttle"
    except (ImportError, FileNotFoundError) as exc:
        print(f"Shuttle not available ({exc}); using a synthetic table.", file=sys.stderr)
        return "synthetic"


def to_layout(X, layout, dtype):
    """``X`` as the input a user passes: a C or Fortran array, or a DataFrame."""
    import numpy as np

    X = np.asarray(X, dtype=dtype)
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    import pandas as pd

    # Built from columns, as read_csv or a ColumnTransformer makes it (column-major).
    return pd.DataFrame({f"x{j}": X[:, j] for j in range(X.shape[1])})


REGRESSION_DATA = {
    "make_regression": "scikit-learn make_regression(40_000, 20, n_informative=10, "
                       "noise=10, random_state=0)",
    "diabetes": "scikit-learn's bundled diabetes data",
}


def load_regression(dataset):
    """A fixed 75/25 split, features and target standardized on the training set."""
    import numpy as np
    from sklearn.datasets import load_diabetes, make_regression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if dataset == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    else:
        X, y = make_regression(40_000, 20, n_informative=10, noise=10, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0)
    x_scaler = StandardScaler().fit(X_train)
    y_scaler = StandardScaler().fit(y_train[:, None])
    return [np.asarray(a, dtype=np.float32) for a in (
        x_scaler.transform(X_train), y_scaler.transform(y_train[:, None]).ravel(),
        x_scaler.transform(X_test), y_scaler.transform(y_test[:, None]).ravel())]


def load_data(dataset, folder, fraction, seed):
    import numpy as np

    ds = datasets_module()
    if dataset in REGRESSION_DATA:
        X_train, y_train, X_test, y_test = load_regression(dataset)
    elif dataset in ("shuttle", "synthetic"):
        X_train, y_train, X_test, y_test = load_table(dataset)
    elif dataset == "fashion":
        X_train, y_train, X_test, y_test = ds.load_idx_folder(folder)
    else:
        X_train, y_train, X_test, y_test = ds.load_digits_split(random_state=0)
    if fraction < 1.0:
        n = max(1, round(fraction * len(y_train)))
        keep = np.random.default_rng(seed).permutation(len(y_train))[:n]
        X_train, y_train = X_train[keep], y_train[keep]
    return X_train, y_train, X_test, y_test


# ---------------------------------------------------------------------- contenders
class SklearnLike:
    """Ours or scikit-learn's estimator, configured identically."""

    def __init__(self, name, spec):
        regression = spec.get("task") == "regression"
        if name == "ours" and regression:
            from sknumpy_mlp import MLPScratchRegressor as cls
        elif name == "ours":
            from sknumpy_mlp import MLPScratchClassifier as cls
        elif regression:
            from sklearn.neural_network import MLPRegressor as cls
        else:
            from sklearn.neural_network import MLPClassifier as cls
        self.cls, self.spec = cls, spec

    def fit(self, X, y, epochs):
        from sklearn.exceptions import ConvergenceWarning

        s = self.spec
        self.model = self.cls(
            hidden_layer_sizes=tuple(s["hidden"]), activation="relu",
            solver="adam", alpha=s["alpha"], batch_size=s["batch_size"],
            learning_rate_init=s["lr"], max_iter=epochs, tol=0.0,
            n_iter_no_change=HUGE, shuffle=True, random_state=s["seed"],
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(X, y)
        return self.model.n_iter_, float(self.model.loss_)

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def predict(self, X):
        return self.model.predict(X)

    @property
    def classes(self):
        return self.model.classes_


class TorchLoop:
    """A plain PyTorch CPU training loop equivalent to scikit-learn's Adam MLP."""

    def __init__(self, name, spec):
        import torch

        torch.set_num_threads(spec["threads"])
        self.torch, self.spec = torch, spec

    def _build(self, n_in, n_out):
        torch, sizes = self.torch, [n_in, *self.spec["hidden"], n_out]
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            linear = torch.nn.Linear(fan_in, fan_out)
            bound = (6.0 / (fan_in + fan_out)) ** 0.5  # scikit-learn's ReLU init
            torch.nn.init.uniform_(linear.weight, -bound, bound)
            torch.nn.init.uniform_(linear.bias, -bound, bound)
            layers += [linear, torch.nn.ReLU()]
        return torch.nn.Sequential(*layers[:-1])

    def fit(self, X, y, epochs):
        import numpy as np

        torch, s = self.torch, self.spec
        torch.manual_seed(s["seed"])
        if s.get("task") == "regression":
            # scikit-learn's squared_error: half the mean squared error, one output
            mse = torch.nn.MSELoss()
            self.loss_fn = lambda output, target: 0.5 * mse(output, target)
            y, n_out = torch.from_numpy(np.asarray(y).reshape(-1, 1)), 1
        else:
            self.loss_fn = torch.nn.CrossEntropyLoss()
            self.classes, codes = np.unique(y, return_inverse=True)
            y, n_out = torch.from_numpy(codes.astype(np.int64)), len(self.classes)
        X = torch.from_numpy(np.asarray(X))  # a DataFrame's to_numpy(), strided as is
        self.model = self._build(X.shape[1], n_out)
        optimizer = torch.optim.Adam(self.model.parameters(), lr=s["lr"])
        weights = [m.weight for m in self.model if isinstance(m, torch.nn.Linear)]
        for _ in range(epochs):
            loss = self._epoch(X, y, optimizer, weights)
        return epochs, loss

    def _epoch(self, X, y, optimizer, weights):
        torch, s = self.torch, self.spec
        loss_fn, total = self.loss_fn, 0.0
        order = torch.randperm(len(y))
        size = s["batch_size"]
        size = min(200, len(y)) if size == "auto" else size
        for start in range(0, len(y), size):
            batch = order[start : start + size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(self.model(X[batch]), y[batch])
            # scikit-learn's L2 term: alpha / 2 * sum ||W||^2 / batch, biases exempt
            l2 = sum((w * w).sum() for w in weights)
            loss = loss + 0.5 * s["alpha"] * l2 / len(batch)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        return total / len(y)

    def predict_proba(self, X):
        torch = self.torch
        import numpy as np

        with torch.inference_mode():
            X = torch.from_numpy(np.asarray(X))
            return torch.softmax(self.model(X), dim=1).numpy()

    def predict(self, X):
        torch = self.torch
        import numpy as np

        with torch.inference_mode():
            return self.model(torch.from_numpy(np.asarray(X))).numpy().ravel()


# ----------------------------------------------------------------------- memory
def _proc_status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def _maxrss_kib():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform == "darwin" else peak  # macOS: bytes


def _malloc_trim():
    """Hand freed heap pages back to the OS (glibc), so they do not hide growth."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class PeakRSSGrowth:
    """Peak resident set size during a block minus the RSS before it, in MiB."""

    def __enter__(self):
        gc.collect()
        _malloc_trim()
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to VmRSS
            self.method = "VmHWM during fit - VmRSS before (Linux clear_refs)"
            self.base = _proc_status_kib("VmRSS")
        except OSError:
            self.method = "ru_maxrss growth during fit (lower bound)"
            self.base = _maxrss_kib()
        return self

    def __exit__(self, *exc):
        if self.method.startswith("VmHWM"):
            peak = _proc_status_kib("VmHWM")
        else:
            peak = _maxrss_kib()
        self.mib = max(0.0, (peak - self.base) / 1024)


# ----------------------------------------------------------------------- worker
def run_worker(spec):
    """Time one fit and its predict_proba in this (fresh) process."""
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    X_train, y_train, X_test, y_test = load_data(
        spec["dataset"], spec["folder"], spec["fraction"], spec["seed"]
    )
    if "layout" in spec:
        X_train = to_layout(X_train, spec["layout"], spec["dtype"])
        X_test = to_layout(X_test, spec["layout"], spec["dtype"])
    contender = spec["contender"]
    runner = (TorchLoop if contender == "torch" else SklearnLike)(contender, spec)
    with threadpool_limits(limits=spec["threads"]):
        runner.fit(X_train[:WARMUP_ROWS], y_train[:WARMUP_ROWS], 1)
        result = timed_fit(runner, X_train, y_train, spec["epochs"])
        if spec.get("task") == "regression":
            scores = predict_regression(runner, X_test, y_test)
            return {**spec, **result, **scores, "n_samples": len(y_train),
                    "n_features": X_train.shape[1], "n_classes": None,
                    "versions": _versions(contender),
                    "blas": _blas(threadpool_info())}
        times = []
        for _ in range(PREDICT_CALLS):
            start = time.perf_counter()
            proba = runner.predict_proba(X_test)
            times.append(time.perf_counter() - start)
        blas = _blas(threadpool_info())  # inside the limits: the threads used
    accuracy = np.mean(np.asarray(runner.classes)[proba.argmax(axis=1)] == y_test)
    return {
        **spec, **result, "n_samples": len(y_train),
        "n_features": X_train.shape[1], "n_classes": len(runner.classes),
        "predict_proba_seconds": statistics.median(times),
        "test_accuracy": float(accuracy), "versions": _versions(contender),
        "blas": blas,
    }  # fmt: skip


def predict_regression(runner, X_test, y_test):
    """``predict`` time (median of 5 calls on the test set) and test R^2."""
    import numpy as np

    times = []
    for _ in range(PREDICT_CALLS):
        start = time.perf_counter()
        y_pred = runner.predict(X_test)
        times.append(time.perf_counter() - start)
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    residual = np.sum((y_test - y_pred) ** 2)
    r2 = 1.0 - residual / np.sum((y_test - np.mean(y_test)) ** 2)
    return {"predict_seconds": statistics.median(times), "test_r2": float(r2)}


def timed_fit(runner, X, y, epochs):
    """Fit once, measuring wall time, CPU time and peak memory growth."""
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with PeakRSSGrowth() as memory:
        cpu, start = time.process_time(), time.perf_counter()
        n_iter, loss = runner.fit(X, y, epochs)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "n_iter": int(n_iter), "fit_seconds": wall,
        "sec_per_epoch": wall / max(n_iter, 1), "fit_cpu_seconds": cpu,
        "cpu_per_wall": cpu / wall, "cpu_sec_per_epoch": cpu / max(n_iter, 1),
        "peak_fit_mib": memory.mib, "memory_method": memory.method,
        "final_loss": loss, "loadavg_before_fit": load_before,
    }  # fmt: skip


def _versions(contender):
    import numpy
    import sklearn

    versions = {"numpy": numpy.__version__, "sklearn": sklearn.__version__}
    if contender == "torch":
        import torch

        versions["torch"] = torch.__version__
    return versions


def _blas(info):
    keys = ("user_api", "internal_api", "version", "num_threads")
    return [{k: pool.get(k) for k in keys} for pool in info]


# ----------------------------------------------------------------------- parent
def available(contender):
    """Return None when the contender can run, else why it cannot."""
    if contender == "ours":
        try:
            from sknumpy_mlp import MLPScratchClassifier  # noqa: F401
        except Exception as exc:
            return f"`from sknumpy_mlp import MLPScratchClassifier` failed: {exc!r}"
    elif contender == "torch" and importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    return None


def run_subprocess(spec):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    done = subprocess.run([*command, json.dumps(spec)], capture_output=True, text=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG) :])
    error = (done.stderr or done.stdout).strip().splitlines()[-15:]
    print(
        f"  {spec['contender']} failed:\n    " + "\n    ".join(error), file=sys.stderr
    )
    return {**spec, "failed": True, "error": "\n".join(error)}


def run_interleaved(specs_by_contender, repeats):
    """Run every spec ``repeats`` times, rotating which contender goes first."""
    names, runs = list(specs_by_contender), []
    n_specs = len(specs_by_contender[names[0]])
    for r in range(repeats):
        for i in range(n_specs):
            k = (r + i) % len(names)
            for name in names[k:] + names[:k]:
                spec = specs_by_contender[name][i]
                runs.append(
                    run_subprocess({**spec, "repeat": r, "seed": spec["seed"] + r})
                )
                _progress(runs[-1], r, repeats)
    return runs


def _progress(result, r, repeats):
    if not result.get("failed"):
        print(
            f"  repeat {r + 1}/{repeats} {result['contender']:7s} "
            f"hidden={result['hidden']} fraction={result['fraction']}: "
            f"{result['sec_per_epoch']:.3f} s/epoch",
            file=sys.stderr,
        )


def summarize(runs, key=("contender",)):
    """Medians over repetitions, grouped by ``key``."""
    groups = {}
    for run in runs:
        if not run.get("failed"):
            groups.setdefault(tuple(str(run[k]) for k in key), []).append(run)
    summary = {}
    for group, rs in groups.items():
        med = {
            f: statistics.median(r[f] for r in rs)
            for f in ("sec_per_epoch", "predict_proba_seconds", "peak_fit_mib",
                      "test_accuracy", "cpu_per_wall", "cpu_sec_per_epoch",
                      "predict_seconds", "test_r2")
            if f in rs[0]
        }  # fmt: skip
        per_epoch = [r["sec_per_epoch"] for r in rs]
        summary[group] = {
            **med, "min_sec_per_epoch": min(per_epoch),
            "max_sec_per_epoch": max(per_epoch), "repeats": len(rs),
            "n_iter": sorted({r["n_iter"] for r in rs}),
            "n_samples": rs[0]["n_samples"], "n_features": rs[0]["n_features"],
            "n_classes": rs[0]["n_classes"], "hidden": rs[0]["hidden"],
            "batch_size": rs[0]["batch_size"],
        }  # fmt: skip
    return summary


def _ratio(summary, name, reference):
    if (name,) not in summary or (reference,) not in summary:
        return "n/a"
    mine, ref = summary[(name,)], summary[(reference,)]
    return f"{mine['sec_per_epoch'] / ref['sec_per_epoch']:.2f}x"


def comparison_table(summary, epochs, predict=("predict_proba", "predict_proba_seconds"),
                     score=("test accuracy", "test_accuracy")):
    """Seconds per epoch, ratios, predict time and test score of each contender."""
    lines = [
        "| contender | fit s/epoch (median) | min-max | vs sklearn | vs torch "
        f"| CPU s/epoch | {predict[0]} ms | peak RSS growth in fit (MiB) "
        f"| {score[0]} | epochs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in CONTENDERS:
        if (name,) not in summary:
            continue
        s = summary[(name,)]
        epochs_run = "/".join(str(n) for n in s["n_iter"])
        if s["n_iter"] != [epochs]:
            epochs_run += f" (asked {epochs})"
        lines.append(
            f"| {name} | {s['sec_per_epoch']:.3f} | {s['min_sec_per_epoch']:.3f}-"
            f"{s['max_sec_per_epoch']:.3f} | {_ratio(summary, name, 'sklearn')} | "
            f"{_ratio(summary, name, 'torch')} | {s['cpu_sec_per_epoch']:.3f} | "
            f"{1000 * s[predict[1]]:.1f} | {s['peak_fit_mib']:.0f} | "
            f"{s[score[1]]:.4f} | {epochs_run} |"
        )
    return "\n".join(lines)


def regression_table(summary, epochs):
    """The comparison table of ``--task regression``: predict time and test R^2."""
    return comparison_table(summary, epochs, predict=("predict", "predict_seconds"),
                            score=("test R^2", "test_r2"))


def scaling_table(summary):
    import numpy as np

    lines = [
        "| contender | hidden | n_samples | fit s/epoch | ns per sample x weight |",
        "|---|---:|---:|---:|---:|",
    ]
    fits = []
    for name in CONTENDERS:
        rows = sorted(
            (s for (c, *_), s in summary.items() if c == name),
            key=lambda s: (s["hidden"][0], s["n_samples"]),
        )
        work = []
        for s in rows:
            width = s["hidden"][0]
            weights = width * (s["n_features"] + s["n_classes"])
            work.append(s["n_samples"] * weights)
            ns = 1e9 * s["sec_per_epoch"] / work[-1]
            lines.append(
                f"| {name} | {width} | {s['n_samples']} | "
                f"{s['sec_per_epoch']:.3f} | {ns:.3f} |"
            )
        if len(rows) > 2:
            seconds = np.array([s["sec_per_epoch"] for s in rows])
            A = np.column_stack([np.ones(len(work)), work])
            coef, *_ = np.linalg.lstsq(A, seconds, rcond=None)
            r2 = 1 - np.sum((A @ coef - seconds) ** 2) / np.sum(
                (seconds - seconds.mean()) ** 2
            )
            fits.append(
                f"{name}: s/epoch = {coef[0]:.3f} + {1e9 * coef[1]:.3f}e-9 x "
                f"n_samples x weights, R^2 = {r2:.4f}"
            )
    return "\n".join(lines), fits


# ------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="digits, 2 epochs, 1 repeat: a smoke test in seconds",
    )
    p.add_argument(
        "--scaling",
        action="store_true",
        help="fit s/epoch vs n_samples (x0.25, 0.5, 1) and width "
        "(64, 256, 1024; one hidden layer); 1 epoch, 1 repeat "
        "unless given",
    )
    p.add_argument(
        "--layouts",
        action="store_true",
        help="C/F arrays and DataFrames, float32 and float64, on a table "
        "(Shuttle) and on images (Fashion-MNIST); default contenders ours,sklearn",
    )
    p.add_argument(
        "--task",
        choices=("classification", "regression"),
        default="classification",
        help="regression: MLPScratchRegressor vs MLPRegressor vs PyTorch on "
        "make_regression 40,000 x 20 (--quick: diabetes); not with --scaling, "
        "--layouts or --dataset",
    )
    p.add_argument(
        "--dataset",
        choices=("auto", "fashion", "digits"),
        default="auto",
        help="auto: Fashion-MNIST if installed",
    )
    p.add_argument("--epochs", type=int, help="default 3 (--quick 2, --scaling 1)")
    p.add_argument("--repeats", type=int, help="default 3 (--quick/--scaling 1)")
    p.add_argument(
        "--contenders",
        help="comma-separated subset of ours,sklearn,torch (default: "
        "all; --scaling: ours,sklearn)",
    )
    p.add_argument("--hidden", default="256,128", help="hidden layer sizes")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--alpha", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="write settings and all runs here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.task == "regression" and (args.scaling or args.layouts
                                      or args.dataset != "auto"):
        p.error("--task regression has its own data; not with --scaling, --layouts "
                "or --dataset")
    short = args.quick or args.scaling
    args.epochs = args.epochs or (2 if args.quick else 1 if args.scaling else 3)
    args.repeats = args.repeats or (1 if short else 3)
    if args.contenders is None:
        pair = args.scaling or args.layouts
        args.contenders = "ours,sklearn" if pair else ",".join(CONTENDERS)
    if args.quick and args.dataset == "auto":
        args.dataset = "digits"
    return args  # fmt: skip


def pick_contenders(args):
    chosen = []
    for name in args.contenders.split(","):
        if name not in CONTENDERS:
            sys.exit(f"unknown contender {name!r}; choose among {CONTENDERS}")
        reason = available(name)
        if reason:
            print(f"Skipping {name}: {reason}", file=sys.stderr)
        else:
            chosen.append(name)
    if not chosen:
        sys.exit("No contender can run.")
    return chosen


def base_spec(args, dataset, folder):
    task = {"task": "regression"} if args.task == "regression" else {}
    return {
        **task, "dataset": dataset, "folder": folder, "fraction": 1.0,
        "hidden": [int(h) for h in args.hidden.split(",")], "epochs": args.epochs,
        "batch_size": args.batch_size, "lr": args.lr, "alpha": args.alpha,
        "seed": args.seed, "threads": args.threads,
    }  # fmt: skip


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(RESULT_TAG + json.dumps(run_worker(json.loads(args.worker))))
        return
    if args.task == "regression":
        dataset, folder = ("diabetes" if args.quick else "make_regression"), None
    else:
        dataset, folder = resolve_dataset(args.dataset)
    base = base_spec(args, dataset, folder)
    names = pick_contenders(args)
    if args.scaling:
        specs = {
            name: [
                {**base, "contender": name, "hidden": [width], "fraction": fraction}
                for width in (64, 256, 1024)
                for fraction in (0.25, 0.5, 1.0)
            ]
            for name in names
        }
    elif args.layouts:
        specs = {name: layout_specs(args, base, name) for name in names}
    else:
        specs = {name: [{**base, "contender": name}] for name in names}
    runs = run_interleaved(specs, args.repeats)
    report(args, base, runs)


LAYOUTS = ("C", "F", "DataFrame")
DTYPES = ("float32", "float64")


def layout_specs(args, base, name):
    """Every (network, layout, dtype) cell of the --layouts table for one contender."""
    images = {**base, "contender": name}
    table = {**images, "dataset": "synthetic" if args.quick else tabular_dataset(),
             "folder": None, "hidden": [100], "batch_size": "auto"}
    if args.quick:
        table["fraction"] = 0.1
    return [{**spec, "layout": layout, "dtype": dtype}
            for spec in (table, images) for layout in LAYOUTS for dtype in DTYPES]


def layouts_table(summary):
    """One row per (data, layout, dtype): seconds per epoch and ours / anchor."""
    names = sorted({k[0] for k in summary}, key=CONTENDERS.index)
    anchors = [n for n in names if n != "ours"]
    lines = ["| data | network | input | dtype | "
             + " | ".join(f"{n} s/epoch" for n in names) + " | "
             + " | ".join(f"ours / {n}" for n in anchors) + " |",
             "|---|---|---|---|" + "---:|" * (len(names) + len(anchors))]
    cells = sorted({k[1:] for k in summary},
                   key=lambda c: (c[0], LAYOUTS.index(c[1]), DTYPES.index(c[2])))
    for cell in cells:
        rows = {n: summary.get((n, *cell)) for n in names}
        some = next(r for r in rows.values() if r is not None)
        times = [f"{rows[n]['sec_per_epoch']:.3f}" if rows[n] else "n/a" for n in names]
        ratios = [f"{rows['ours']['sec_per_epoch'] / rows[n]['sec_per_epoch']:.2f}x"
                  if rows.get("ours") and rows[n] else "n/a" for n in anchors]
        network = (f"{tuple(some['hidden'])} batch {some['batch_size']}, "
                   f"{some['n_samples']} x {some['n_features']}")
        lines.append(f"| {cell[0]} | {network} | {cell[1]} | {cell[2]} | "
                     + " | ".join(times + ratios) + " |")
    return "\n".join(lines)


def report(args, base, runs):
    ok = [r for r in runs if not r.get("failed")]
    if not ok:
        sys.exit("Every run failed.")
    first = ok[0]
    data = ("data, networks and inputs as in the table below" if args.layouts else
            f"{first['dataset']}: {first['n_samples']} x {first['n_features']} "
            f"float32, {first['n_classes']} classes")
    if args.task == "regression":
        data = (f"{REGRESSION_DATA[first['dataset']]}: {first['n_samples']} x "
                f"{first['n_features']} float32 for training, 75/25 split, features "
                "and target standardized; one linear output, half squared error")
    print(
        f"\n{data}; ReLU, Adam lr={args.lr}, "
        f"batch {'as in the table' if args.layouts else args.batch_size}, "
        f"alpha {args.alpha}; {args.epochs} epochs, "
        f"median of {args.repeats}; {args.threads} threads; "
        f"{cpu_name()}, {os.cpu_count()} cores\n"
        f"Memory: {first['memory_method']}.\n"
    )
    loads = [r["loadavg_before_fit"] for r in ok if r["loadavg_before_fit"] is not None]
    if loads:
        busy = " (other programs were competing for the CPU)" * (
            max(loads) > args.threads + 1
        )
        print(
            f"1-min load average before fits: {min(loads):.1f}-{max(loads):.1f}{busy}\n"
        )
    output = {"settings": {**base, "repeats": args.repeats}, "runs": runs}
    if args.scaling:
        summary = summarize(ok, key=("contender", "hidden", "fraction"))
        table, fits = scaling_table(summary)
        print(table + "\n\nLeast-squares fit:\n" + "\n".join(fits))
        output["scaling_fits"] = fits
    elif args.layouts:
        print("Seconds per epoch, median; ratios below 1 = ours faster.\n")
        summary = summarize(ok, key=("contender", "dataset", "layout", "dtype"))
        print(layouts_table(summary))
    else:
        print(
            f"Hidden layers {tuple(base['hidden'])}. Ratios are seconds/epoch "
            "divided by the reference's (below 1 = faster).\n"
        )
        summary = summarize(ok)
        table = regression_table if args.task == "regression" else comparison_table
        print(table(summary, args.epochs))
    output["summary"] = [{"group": list(k), **v} for k, v in summary.items()]
    output["environment"] = environment(ok)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(output, indent=2))
        print(f"\nWrote {args.json}")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(runs):
    versions = {}
    for run in runs:
        versions.update(run["versions"])
    return {
        "python": platform.python_version(), "platform": platform.platform(),
        "cpu": cpu_name(), "cpu_count": os.cpu_count(), "versions": versions,
        "blas": runs[0]["blas"],
    }  # fmt: skip


if __name__ == "__main__":
    main()
