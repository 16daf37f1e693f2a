"""Accuracy and speed on real tabular classification data, against gradient boosting.

Run from the repository root::

    python benchmarks/bench_tabular.py --quick                 # 3 small sets, no PyTorch
    python benchmarks/bench_tabular.py                         # every set below
    python benchmarks/bench_tabular.py --datasets spam,DNA --contenders ours,hgb
    python benchmarks/bench_tabular.py --json out.json         # also write every number
    python benchmarks/bench_tabular.py --seeds 0,1,2           # mean over three splits

Data: the classification sets of Debian's ``r-cran-mlbench`` and ``r-cran-kernlab``, read
without R through ``rdata_sets.py`` (``apt-get download`` + ``dpkg -x`` into a cache, then
PyPI's ``rdata``). Of the 26 objects the two packages ship, these are used (``DATASETS``):

=================== ======== ======================= =====================================
set                 package  target (classes)        notes
=================== ======== ======================= =====================================
BreastCancer        mlbench  Class (2)               9 ordered factors, NAs; ``Id`` dropped
DNA                 mlbench  Class (3)               180 binary factors
HouseVotes84        mlbench  Class (2)               16 yes/no factors, many NAs
Ionosphere          mlbench  Class (2)               32 numbers, 2 factors
LetterRecognition   mlbench  lettr (26)              16 integer features, 20,000 rows
PimaIndiansDiabetes2 mlbench diabetes (2)            impossible zeros coded as NA
Satellite           mlbench  classes (6)             36 numbers
Soybean             mlbench  Class (19)              35 factors, many NAs
Vehicle             mlbench  Class (4)               18 numbers
Vowel               mlbench  Class (11)              speaker factor + 9 numbers
income              kernlab  INCOME (9, ordered)     13 factors, NAs
musk                kernlab  Class (2)               166 numbers, 476 rows
spam                kernlab  type (2)                57 numbers
ticdata             kernlab  CARAVAN (2)             62 factors, 23 numbers, 6% positives
=================== ======== ======================= =====================================

Left out, and why: the regression sets (BostonHousing, BostonHousing2, Ozone, Servo);
``PimaIndiansDiabetes`` (the same rows as ``PimaIndiansDiabetes2``, with NAs written as 0);
sets under 250 rows, whose 25 % test split is too small to rank anything (Glass 214, Sonar
208, promotergene 106, Zoo 101); data that are not a table (reuters: text; spirals: an
unlabelled 2-d array). ``Shuttle`` (58,000 rows) is degenerate for accuracy (trees classify
it almost perfectly, so a loss is a few rows of 14,500 and loss ratios are noise) but useful
for timing; it runs only when named: ``--datasets Shuttle``.

Held out (``--held-out``; run only when asked): sets that played no part in choosing the
defaults, to see whether they carry over to data they were not chosen on. The four small
sets above (Glass, Sonar, Zoo, promotergene) and three that scikit-learn bundles (``wdbc``:
its breast cancer set, the 569 rows x 30 cell measurements of the Wisconsin *diagnostic*
data, not mlbench's ``BreastCancer``; ``wine``; ``digits``, 8 x 8 images as 64 columns).
They are small, so judge them on many splits (``--seeds 0,1,...,9``), not one.

Protocol: one stratified 75/25 split per set (``--seed``, default 0), or several
(``--seeds``: each seed is a split and every contender's ``random_state``; the tables then
show each set's mean over the splits, and the summary compares those means); loss = 1 - ROC
AUC for binary targets, classification error for multiclass ones. On the small sets a few
test rows decide a single split, so choices between defaults want several. Every contender
runs in this process, one after another, with BLAS/OpenMP (and PyTorch) limited to
``--threads``. Fit seconds (wall clock) include the preprocessing; next to them, the CPU
seconds of all the process's threads, which depend less on other programs sharing the cores
(on a busy machine OpenMP/BLAS threads wait for descheduled siblings, and wall times swing);
predict seconds are the median of ``PREDICT_REPEATS`` (5) ``predict_proba`` calls on the
test split (one call swings by 2x on a shared machine). Fits longer than the
issue's 60 s budget are marked ``!``. Summary per contender: the geometric mean over sets of
loss / HGB's loss (sets where HGB's loss is 0 are left out), how often it beats HGB (lower
loss), how often its loss is higher than scikit-learn's MLP's (when ``sklearn`` runs), and
how often it is the best of all.

Contenders (``--contenders``; each is skipped with a message when it cannot be imported):

- ``sklearn``: ``MLPClassifier()`` behind median imputation + ``StandardScaler`` for
  numbers and ``OneHotEncoder(handle_unknown="ignore")`` for factors (a missing value is a
  level of its own), in a ``ColumnTransformer``;
- ``ours``: ``sknumpy_mlp.MLPScratchClassifier()`` behind the same preprocessing;
- ``hgb``: ``HistGradientBoostingClassifier(categorical_features="from_dtype")`` on the
  raw frame (native categoricals and missing values);
- ``realmlp``: pytabkit's ``RealMLP_TD_Classifier`` (PyTorch), on the frame with
  numbers median-imputed (it refuses NaN in numeric columns; factors and their NAs go in
  as they are);
- ``tabular``: ``sknumpy_mlp.tabular.TabularMLPClassifier()`` on the raw frame;
- ``tabular-<ablation>`` (``--ablation``): one such network, then one network with one
  ingredient switched off (``ABLATIONS``).

All use their defaults, except ``random_state=--seed`` so that a run repeats.
"""

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmark the working tree, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))  # rdata_sets

# name -> (package, target column, columns to drop)
DATASETS = {
    "BreastCancer": ("mlbench", "Class", ["Id"]),
    "DNA": ("mlbench", "Class", []),
    "HouseVotes84": ("mlbench", "Class", []),
    "Ionosphere": ("mlbench", "Class", []),
    "LetterRecognition": ("mlbench", "lettr", []),
    "PimaIndiansDiabetes2": ("mlbench", "diabetes", []),
    "Satellite": ("mlbench", "classes", []),
    "Soybean": ("mlbench", "Class", []),
    "Vehicle": ("mlbench", "Class", []),
    "Vowel": ("mlbench", "Class", []),
    "income": ("kernlab", "INCOME", []),
    "musk": ("kernlab", "Class", []),
    "spam": ("kernlab", "type", []),
    "ticdata": ("kernlab", "CARAVAN", []),
    "Shuttle": ("mlbench", "Class", []),
    # The held-out sets (--held-out): never run while the defaults were chosen.
    "Glass": ("mlbench", "Type", []),
    "Sonar": ("mlbench", "Class", []),
    "Zoo": ("mlbench", "type", []),
    "promotergene": ("kernlab", "Class", []),
    "wdbc": ("sklearn", "breast_cancer", []),
    "wine": ("sklearn", "wine", []),
    "digits": ("sklearn", "digits", []),
}
HELD_OUT = ("Glass", "Sonar", "Zoo", "promotergene", "wdbc", "wine", "digits")
OPT_IN = ("Shuttle", *HELD_OUT)
QUICK = ("HouseVotes84", "PimaIndiansDiabetes2", "Vehicle")
#: ``--ablation``: one network (``single``), then that network with one ingredient of
#: the recipe changed at a time (taken out, or for the front scale, which the defaults
#: leave out since the first ablation, put back). One network keeps the runs short; the
#: ensemble's own contribution is ``tabular`` against ``tabular-single``.
ABLATIONS = {
    "single": {},
    "no-embedding": {"numeric_embedding": False},
    "scale": {"front_scale": True},
    "one-hot-binary": {"binary_encoding": "one-hot"},
    "no-param-act": {"parametric_activation": False},
    "no-dropout": {"dropout": 0.0},
    "no-wd": {"weight_decay": 0.0},
    "no-smoothing": {"label_smoothing": 0.0},
    "select-acc": {"validation_metric": "accuracy"},
}


CONTENDERS = ("sklearn", "ours", "hgb", "realmlp", "tabular",
              *(f"tabular-{k}" for k in ABLATIONS))
DEFAULT_CONTENDERS = ("sklearn", "ours", "hgb", "realmlp", "tabular")
ABLATION_CONTENDERS = ("hgb", "tabular", *(f"tabular-{k}" for k in ABLATIONS))
QUICK_CONTENDERS = ("sklearn", "ours", "hgb")  # RealMLP needs ~20-60 s even on 500 rows
REFERENCE = "hgb"
BUDGET_SECONDS = 60.0


# --------------------------------------------------------------------------- data
def load_split(name, seed):
    """The stratified 75/25 split of data set ``name``, target encoded as 0..k-1."""
    from rdata_sets import load_r_dataset
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder

    package, target, drop = DATASETS[name]
    if package == "sklearn":  # bundled with scikit-learn: always there
        import sklearn.datasets

        frame = getattr(sklearn.datasets, f"load_{target}")(as_frame=True).frame
        target = "target"
    else:
        frame = load_r_dataset(package, name)
    X = frame.drop(columns=[target, *drop])
    X.columns = [str(c) for c in X.columns]
    y = LabelEncoder().fit_transform(frame[target].astype(str))
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def categorical_columns(X):
    return [c for c in X.columns if not _is_numeric(X[c])]


def _is_numeric(column):
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


# ---------------------------------------------------------------------- contenders
def mlp_preprocessing(X):
    """Impute + scale the numbers, one-hot the factors (the issue's baseline pipeline)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = categorical_columns(X)
    num = [c for c in X.columns if c not in cat]
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat),
    ], sparse_threshold=0)  # fmt: skip


def make_sklearn(X, seed):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(mlp_preprocessing(X), MLPClassifier(random_state=seed))


def make_ours(X, seed):
    from sklearn.pipeline import make_pipeline

    from sknumpy_mlp import MLPScratchClassifier

    return make_pipeline(mlp_preprocessing(X), MLPScratchClassifier(random_state=seed))


def make_hgb(X, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(categorical_features="from_dtype",
                                          random_state=seed)


def make_realmlp(X, seed, threads=2):
    import torch
    from pytabkit import RealMLP_TD_Classifier
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    torch.set_num_threads(threads)
    cat = categorical_columns(X)
    num = [c for c in X.columns if c not in cat]
    fill = ColumnTransformer([("num", SimpleImputer(strategy="median"), num)],
                             remainder="passthrough", verbose_feature_names_out=False)
    fill.set_output(transform="pandas")  # keeps the factors' category dtype
    model = RealMLP_TD_Classifier(random_state=seed, n_threads=threads, device="cpu",
                                  verbosity=0)
    return make_pipeline(fill, model)


def make_tabular(X, seed, **params):
    from sknumpy_mlp.tabular import TabularMLPClassifier

    return TabularMLPClassifier(random_state=seed, **params)


def _ablated(params):
    def build(X, seed):
        return make_tabular(X, seed, n_members=1, **params)

    return build


FACTORIES = {"sklearn": make_sklearn, "ours": make_ours, "hgb": make_hgb,
             "realmlp": make_realmlp, "tabular": make_tabular,
             **{f"tabular-{k}": _ablated(v) for k, v in ABLATIONS.items()}}


def available(names, threads):
    """The contenders that can be built, with a message for each one that cannot."""
    ok = {}
    for name in names:
        factory = FACTORIES[name]
        if name == "realmlp":
            factory = _with_threads(make_realmlp, threads)
        try:  # build once on a toy frame: imports and constructor arguments
            import pandas as pd

            factory(pd.DataFrame({"a": [0.0, 1.0]}), 0)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            print(f"skipping {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        ok[name] = factory
    return ok


def _with_threads(factory, threads):
    def build(X, seed):
        return factory(X, seed, threads=threads)

    return build


# ---------------------------------------------------------------------- measuring
PREDICT_REPEATS = 5


def loss(y_true, proba):
    """1 - ROC AUC for two classes, classification error for more."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    if proba.shape[1] == 2:
        return 1.0 - roc_auc_score(y_true, proba[:, 1])
    return float(np.mean(np.argmax(proba, axis=1) != y_true))


def run_one(factory, split, seed):
    from sklearn.exceptions import ConvergenceWarning

    X_train, X_test, y_train, y_test = split
    model = factory(X_train, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", module="pytorch_lightning")  # its deprecations
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(X_train, y_train)
        fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    times = []
    for _ in range(PREDICT_REPEATS):
        start = time.perf_counter()
        proba = model.predict_proba(X_test)
        times.append(time.perf_counter() - start)
    predict_s = sorted(times)[len(times) // 2]
    return {"loss": loss(y_test, proba), "fit_s": fit_s, "fit_cpu_s": fit_cpu_s,
            "predict_s": predict_s}


def run(datasets, contenders, seed, threads):
    from threadpoolctl import threadpool_limits

    records = []
    for name in datasets:
        split = load_split(name, seed)
        X_train, X_test, y_train, _ = split
        info = {"dataset": name, "n_rows": len(X_train) + len(X_test),
                "n_cols": X_train.shape[1], "n_classes": int(y_train.max()) + 1}
        for contender, factory in contenders.items():
            with threadpool_limits(limits=threads):
                try:
                    result = run_one(factory, split, seed)
                except Exception as exc:  # noqa: BLE001 - report it and go on
                    nan = math.nan
                    result = {"loss": nan, "fit_s": nan, "fit_cpu_s": nan, "predict_s": nan,
                              "error": f"{type(exc).__name__}: {exc}"[:300]}
            records.append({**info, "contender": contender, "seed": seed, **result})
            print(f"{name:22s} {contender:8s} loss {result['loss']:.4f} "
                  f"fit {result['fit_s']:7.2f} s (cpu {result['fit_cpu_s']:7.2f} s)  "
                  f"predict {result['predict_s']:.3f} s"
                  + (f"  {result['error']}" if "error" in result else ""),
                  file=sys.stderr, flush=True)
    return records


def mean_records(records):
    """One record per (set, contender): losses and times averaged over the seeds."""
    groups = {}
    for r in records:
        groups.setdefault((r["dataset"], r["contender"]), []).append(r)
    out = []
    for group in groups.values():
        mean = dict(group[0])
        for key in ("loss", "fit_s", "fit_cpu_s", "predict_s"):
            mean[key] = sum(r[key] for r in group) / len(group)  # NaN if one failed
        mean["n_seeds"] = len(group)
        mean["max_fit_s"] = max(r["fit_s"] for r in group)
        errors = [r["error"] for r in group if "error" in r]
        if errors:
            mean["error"] = "; ".join(dict.fromkeys(errors))
        out.append(mean)
    return out


def _above(a, b):
    """``a > b`` beyond rounding: two AUCs from the same ranking can differ in the last
    bits (HouseVotes84: 0.007107320540156503 against ...392), which is a tie."""
    return a > b and not math.isclose(a, b, rel_tol=1e-9)


def summarize(records, contenders):
    """Geometric mean of loss / HGB's loss, wins against HGB and losses against
    scikit-learn's MLP, and best-of-all counts; on each set's mean over the seeds."""
    by_set = {}
    for r in mean_records(records):
        by_set.setdefault(r["dataset"], {})[r["contender"]] = r["loss"]
    summary = {}
    for c in contenders:
        logs, wins, defeats, worse_than_mlp, best = [], 0, 0, 0, 0
        for losses in by_set.values():
            mine, ref = losses.get(c, math.nan), losses.get(REFERENCE, math.nan)
            if math.isnan(mine):
                continue
            finite = [v for v in losses.values() if not math.isnan(v)]
            best += not _above(mine, min(finite))
            worse_than_mlp += _above(mine, losses.get("sklearn", math.inf))
            if math.isnan(ref):
                continue
            wins += _above(ref, mine)
            defeats += _above(mine, ref)
            if ref > 0 and mine > 0:  # HGB itself: log 1 = 0 each time
                logs.append(math.log(mine / ref))
        summary[c] = {"geomean_ratio_vs_hgb": math.exp(sum(logs) / len(logs))
                      if logs else math.nan, "wins_vs_hgb": wins,
                      "losses_vs_hgb": defeats, "losses_vs_sklearn": worse_than_mlp,
                      "best": best, "n_sets": len(logs)}
    return summary


# ---------------------------------------------------------------------- reporting
def markdown(records, summary, contenders):
    seeds = sorted({r.get("seed", 0) for r in records})
    records = mean_records(records)
    sets = list(dict.fromkeys(r["dataset"] for r in records))
    get = {(r["dataset"], r["contender"]): r for r in records}
    head = "| data set | rows x cols | classes | " + " | ".join(contenders) + " |"
    rule = "|---|---|---:|" + "---:|" * len(contenders)
    over = (f"mean over the splits of seeds {', '.join(map(str, seeds))}; "
            if len(seeds) > 1 else "")
    lines = [f"Loss ({over}1 - ROC AUC for 2 classes, error otherwise; **bold** = best):",
             "", head, rule]
    for s in sets:
        first = get[s, contenders[0]]
        values = [get[s, c]["loss"] for c in contenders]
        low = min((v for v in values if not math.isnan(v)), default=math.nan)
        cells = [("%.4f" if _above(v, low) else "**%.4f**") % v
                 if not math.isnan(v) else "failed"
                 for v in values]
        lines.append(f"| {s} | {first['n_rows']} x {first['n_cols']} | "
                     f"{first['n_classes']} | " + " | ".join(cells) + " |")
    lines += ["", "Fit seconds (CPU seconds of all threads) / predict seconds (median of "
              f"{PREDICT_REPEATS} calls; ``!`` = fit over the 60 s budget):", "",
              "| data set | " + " | ".join(contenders) + " |",
              "|---|" + "---:|" * len(contenders)]
    for s in sets:
        cells = []
        for c in contenders:
            r = get[s, c]
            flag = "!" if r["max_fit_s"] > BUDGET_SECONDS else ""  # any split
            cells.append(f"{r['fit_s']:.2f}{flag} ({r['fit_cpu_s']:.1f}) / "
                         f"{r['predict_s']:.3f}")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines += ["", "| summary | " + " | ".join(contenders) + " |",
              "|---|" + "---:|" * len(contenders)]
    rows = [("geo. mean loss / HGB's", "geomean_ratio_vs_hgb", "{:.3f}"),
            ("lower loss than HGB", "wins_vs_hgb", "{}"),
            ("higher loss than HGB", "losses_vs_hgb", "{}"),
            ("higher loss than sklearn's MLP", "losses_vs_sklearn", "{}"),
            ("best of all", "best", "{}")]
    if "sklearn" not in contenders:
        rows.pop(3)
    for label, key, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(
            fmt.format(summary[c][key]) for c in contenders) + " |")
    errors = [f"- {r['dataset']} / {r['contender']}: {r['error']}"
              for r in records if "error" in r]
    if errors:
        lines += ["", "Failures:", *errors]
    return "\n".join(lines)


def versions():
    import importlib.metadata as md

    out = {"python": platform.python_version(), "machine": platform.machine(),
           "cpus": os.cpu_count()}
    for dist in ("numpy", "scikit-learn", "pandas", "pytabkit", "torch"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help=f"only {', '.join(QUICK)} (seconds; CI smoke)")
    p.add_argument("--datasets", help="comma-separated names (default: all but "
                   f"{', '.join(OPT_IN)}); choices: {', '.join(DATASETS)}")
    p.add_argument("--held-out", action="store_true",
                   help=f"only the held-out sets, {', '.join(HELD_OUT)}")
    p.add_argument("--contenders", help="comma-separated, from "
                   f"{', '.join(CONTENDERS)} (default: {', '.join(DEFAULT_CONTENDERS)}; "
                   f"--quick: {', '.join(QUICK_CONTENDERS)})")
    p.add_argument("--ablation", action="store_true",
                   help="HGB, the tabular estimator and its ablations (ABLATIONS)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", help="comma-separated seeds (several splits; overrides "
                   "--seed), e.g. 0,1,2")
    p.add_argument("--json", type=Path, help="write settings and every number here")
    args = p.parse_args(argv)
    for option, known in (("datasets", DATASETS), ("contenders", CONTENDERS)):
        value = getattr(args, option)
        names = [n.strip() for n in value.split(",") if n.strip()] if value else None
        unknown = sorted(set(names or ()) - set(known))
        if unknown:
            p.error(f"unknown {option}: {', '.join(unknown)}")
        setattr(args, option, names)
    try:
        seeds = [int(v) for v in args.seeds.split(",") if v.strip()] if args.seeds \
            else [args.seed]
        args.seeds = list(dict.fromkeys(seeds))  # each split once
    except ValueError:
        p.error(f"--seeds takes comma-separated integers, got {args.seeds!r}")
    if not args.seeds:
        p.error("--seeds needs at least one seed")
    if args.contenders is None:
        args.contenders = list(ABLATION_CONTENDERS if args.ablation else
                               QUICK_CONTENDERS if args.quick else DEFAULT_CONTENDERS)
    if args.datasets is None:
        args.datasets = list(QUICK) if args.quick else list(HELD_OUT) \
            if args.held_out else [d for d in DATASETS if d not in OPT_IN]
    return args


def main(argv=None):
    args = parse_args(argv)
    contenders = available(args.contenders, args.threads)
    if not contenders:
        sys.exit("no contender can run")
    records = [r for seed in args.seeds
               for r in run(args.datasets, contenders, seed, args.threads)]
    names = list(contenders)
    summary = summarize(records, names)
    print(markdown(records, summary, names))
    if args.json:
        payload = {"command": " ".join(["python", "benchmarks/bench_tabular.py",
                                        *(argv if argv is not None else sys.argv[1:])]),
                   "seeds": args.seeds, "threads": args.threads, "versions": versions(),
                   "records": records, "summary": summary}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
