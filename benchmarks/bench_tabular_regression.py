"""Does the front scale help TabularMLPRegressor? Real regression tables, several splits.

Run from the repository root::

    python benchmarks/bench_tabular_regression.py                  # 5 sets x 10 splits
    python benchmarks/bench_tabular_regression.py --seeds 3 --datasets Servo,diabetes
    python benchmarks/bench_tabular_regression.py --json out.json  # also every number

The classification benchmark (``bench_tabular.py``) found that dropping the front scale
(a learned per-column scale in front of the first layer) helps ``TabularMLPClassifier``.
This script asks the same of the regressor, with three contenders (``CONTENDERS``):

- ``scale``: ``TabularMLPRegressor()``, the defaults (``front_scale=True``);
- ``no-scale``: ``TabularMLPRegressor(front_scale=False)``;
- ``hgb``: ``HistGradientBoostingRegressor(categorical_features="from_dtype")``, the anchor.

Data (``DATASETS``): the regression sets of Debian's ``r-cran-mlbench``, read without R
through ``rdata_sets.py``, and scikit-learn's bundled diabetes table:

============== ========= ====== ====================================================
set            target    rows   notes
============== ========= ====== ====================================================
BostonHousing  medv      506    13 numbers, ``chas`` a factor
BostonHousing2 cmedv     506    the corrected target; ``lon``/``lat`` added. Dropped:
                                ``medv`` (the uncorrected target, r = 0.998), ``tract``
                                (a unique id per row, numbered by place) and ``town``
                                (92 levels for 506 rows, an id of groups of ~5 rows;
                                ``lon``/``lat`` say where a row is without being ids)
Ozone          V4        361    daily ozone; month, day and weekday as factors; rows
                                without a target dropped, NAs in the features kept
Servo          Class     167    4 factors; the 42-row test split is noisy
diabetes       target    442    10 numbers (``sklearn.datasets.load_diabetes``)
============== ========= ====== ====================================================

Protocol: for each set and each seed in ``0 .. --seeds - 1``, one random 75/25 split
(``train_test_split(random_state=seed)``); every contender gets ``random_state=seed``.
Metric: the test RMSE divided by the test RMSE of predicting the training mean (1 = no
better than the mean; scale-free, so sets can be averaged). Ratios to HGB are ratios of
RMSEs, whatever the normalisation. Summaries: per set, the mean metric, the geometric
mean over splits of RMSE / HGB's RMSE, and the splits where ``no-scale`` beats ``scale``;
overall, the geometric mean over sets of the per-set geometric means, and the paired
log ratio ``no-scale`` / ``scale`` over all splits with a 95 % t interval.

Fits run in ``--jobs`` worker processes, each with BLAS/OpenMP limited to ``--threads``
(one thread per process is fastest for these small tables on a shared 2-core machine:
a default fit on BostonHousing took 19 s with one thread and 98 s with two).
"""

import argparse
import functools
import json
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmark the working tree, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))  # rdata_sets, bench_tabular

from bench_tabular import versions  # noqa: E402

# name -> (R package or "sklearn", target column, columns to drop)
DATASETS = {
    "BostonHousing": ("mlbench", "medv", []),
    "BostonHousing2": ("mlbench", "cmedv", ["medv", "tract", "town"]),
    "Ozone": ("mlbench", "V4", []),
    "Servo": ("mlbench", "Class", []),
    "diabetes": ("sklearn", "target", []),
}
CONTENDERS = {"scale": {}, "no-scale": {"front_scale": False}, "hgb": None}
REFERENCE = "hgb"


# --------------------------------------------------------------------------- data
@functools.cache
def load_table(name):
    """``(X, y)`` of data set ``name``: a DataFrame and a float array, no missing y."""
    from rdata_sets import load_r_dataset

    package, target, drop = DATASETS[name]
    if package == "sklearn":
        from sklearn.datasets import load_diabetes

        frame = load_diabetes(as_frame=True).frame
    else:
        frame = load_r_dataset(package, name)
    frame = frame[frame[target].notna()]
    X = frame.drop(columns=[target, *drop])
    X.columns = [str(c) for c in X.columns]
    return X, frame[target].to_numpy(dtype=float)


def load_split(name, seed):
    """The random 75/25 split ``seed`` of data set ``name``."""
    from sklearn.model_selection import train_test_split

    X, y = load_table(name)
    return train_test_split(X, y, test_size=0.25, random_state=seed)


# ---------------------------------------------------------------------- measuring
def make_model(contender, seed):
    if CONTENDERS[contender] is None:
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(categorical_features="from_dtype",
                                             random_state=seed)
    from sknumpy_mlp.tabular import TabularMLPRegressor

    return TabularMLPRegressor(random_state=seed, **CONTENDERS[contender])


def run_one(name, seed, contender, threads):
    """Fit one contender on one split; its test RMSE, relative RMSE and seconds."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    X_train, X_test, y_train, y_test = load_split(name, seed)
    model = make_model(contender, seed)
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(X_train, y_train)
        fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        pred = model.predict(X_test)
    rmse = float(np.sqrt(np.mean((pred - y_test) ** 2)))
    rmse_mean = float(np.sqrt(np.mean((y_train.mean() - y_test) ** 2)))
    return {"dataset": name, "seed": seed, "contender": contender, "rmse": rmse,
            "relative_rmse": rmse / rmse_mean, "fit_s": fit_s, "fit_cpu_s": fit_cpu_s,
            "n_rows": len(X_train) + len(X_test), "n_cols": X_train.shape[1]}


def run(datasets, seeds, jobs, threads):
    """Every (set, seed, contender), in ``jobs`` processes; records in a fixed order."""
    os.environ["OMP_NUM_THREADS"] = str(threads)  # for the workers, before their imports
    tasks = [(d, s, c) for d in datasets for s in range(seeds) for c in CONTENDERS]
    records = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_one, *t, threads): t for t in tasks}
        for future in as_completed(futures):
            r = future.result()
            records[futures[future]] = r
            print(f"{r['dataset']:15s} seed {r['seed']:2d} {r['contender']:8s} "
                  f"rel. RMSE {r['relative_rmse']:.4f}  fit {r['fit_s']:6.2f} s "
                  f"(cpu {r['fit_cpu_s']:6.2f})", file=sys.stderr, flush=True)
    return [records[t] for t in tasks]


# ---------------------------------------------------------------------- summaries
def _geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _t_interval(logs):
    """Geometric mean of exp(logs) and its 95 % t interval (splits as the samples)."""
    from scipy import stats

    n = len(logs)
    mean = sum(logs) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / (n - 1)) if n > 1 else math.nan
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) if n > 1 else math.nan
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def summarize(records):
    """Per set and overall: mean metric, ratios to HGB, no-scale against scale."""
    get = {(r["dataset"], r["seed"], r["contender"]): r for r in records}
    sets = list(dict.fromkeys(r["dataset"] for r in records))
    per_set, all_logs = {}, []
    for d in sets:
        seeds = sorted({r["seed"] for r in records if r["dataset"] == d})
        row = {"n_splits": len(seeds)}
        for c in CONTENDERS:
            rs = [get[d, s, c] for s in seeds]
            row[c] = {"mean_relative_rmse": sum(r["relative_rmse"] for r in rs) / len(rs),
                      "geomean_vs_hgb": _geomean([r["rmse"] / get[d, r["seed"], REFERENCE]
                                                  ["rmse"] for r in rs]),
                      "mean_fit_s": sum(r["fit_s"] for r in rs) / len(rs)}
        logs = [math.log(get[d, s, "no-scale"]["rmse"] / get[d, s, "scale"]["rmse"])
                for s in seeds]
        all_logs += logs
        row["no_scale_wins"] = sum(v < 0 for v in logs)
        row["no_scale_losses"] = sum(v > 0 for v in logs)
        row["no_scale_over_scale"] = _t_interval(logs)
        per_set[d] = row
    overall = {c: _geomean([per_set[d][c]["geomean_vs_hgb"] for d in sets])
               for c in CONTENDERS}
    return {"per_set": per_set, "geomean_vs_hgb": overall,
            "no_scale_wins": sum(v < 0 for v in all_logs),
            "no_scale_losses": sum(v > 0 for v in all_logs),
            "no_scale_over_scale": _t_interval(all_logs)}


# ---------------------------------------------------------------------- reporting
def markdown(summary, records):
    names = list(CONTENDERS)
    per_set = summary["per_set"]
    lines = ["Mean test RMSE / RMSE of the training mean (lower is better), geometric "
             "mean of RMSE / HGB's RMSE over the splits, and no-scale against scale "
             "split by split (wins-losses; geometric mean of the RMSE ratio, 95 % t "
             "interval):", "",
             "| data set | splits | " + " | ".join(names) + " | "
             + " | ".join(f"{c} / hgb" for c in names[:2])
             + " | no-scale wins-losses | no-scale / scale |",
             "|---|---:|" + "---:|" * (len(names) + 4)]
    for d, row in per_set.items():
        best = min(row[c]["mean_relative_rmse"] for c in names)
        cells = [("**%.4f**" if row[c]["mean_relative_rmse"] == best else "%.4f")
                 % row[c]["mean_relative_rmse"] for c in names]
        cells += [f"{row[c]['geomean_vs_hgb']:.3f}" for c in names[:2]]
        g, lo, hi = row["no_scale_over_scale"]
        cells += [f"{row['no_scale_wins']}-{row['no_scale_losses']}",
                  f"{g:.3f} [{lo:.3f}, {hi:.3f}]"]
        lines.append(f"| {d} | {row['n_splits']} | " + " | ".join(cells) + " |")
    g, lo, hi = summary["no_scale_over_scale"]
    lines.append("| **all** | " + str(sum(r["n_splits"] for r in per_set.values()))
                 + " | | | | " + " | ".join(f"**{summary['geomean_vs_hgb'][c]:.3f}**"
                                             for c in names[:2])
                 + f" | {summary['no_scale_wins']}-{summary['no_scale_losses']} | "
                 f"{g:.3f} [{lo:.3f}, {hi:.3f}] |")
    lines += ["", "Mean fit seconds (wall clock, one thread per process):", "",
              "| data set | rows x cols | " + " | ".join(names) + " |",
              "|---|---|" + "---:|" * len(names)]
    times = {}
    for r in records:
        times.setdefault(r["dataset"], {"shape": f"{r['n_rows']} x {r['n_cols']}"}) \
            .setdefault(r["contender"], []).append(r["fit_s"])
    lines += [f"| {d} | {row['shape']} | " + " | ".join(
        f"{sum(row[c]) / len(row[c]):.2f}" for c in names) + " |"
        for d, row in times.items()]
    return "\n".join(lines)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", help=f"comma-separated, from {', '.join(DATASETS)} "
                   "(default: all)")
    p.add_argument("--seeds", type=int, default=10, help="splits per set (default 10)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS/OpenMP threads per process (default 1)")
    p.add_argument("--json", type=Path, help="write settings and every number here")
    args = p.parse_args(argv)
    names = [n.strip() for n in (args.datasets or ",".join(DATASETS)).split(",")
             if n.strip()]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        p.error(f"unknown datasets: {', '.join(unknown)}")
    if args.seeds < 2:
        p.error("--seeds must be at least 2 (the interval needs two splits)")
    args.datasets = names
    return args


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    records = run(args.datasets, args.seeds, args.jobs, args.threads)
    summary = summarize(records)
    print(markdown(summary, records))
    print(f"\nTotal wall clock: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if args.json:
        command = ["python", "benchmarks/bench_tabular_regression.py",
                   *(argv if argv is not None else sys.argv[1:])]
        payload = {"command": " ".join(command), "seeds": args.seeds,
                   "jobs": args.jobs, "threads": args.threads, "versions": versions(),
                   "records": records, "summary": summary}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
