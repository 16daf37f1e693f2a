"""``python -m sknumpy_mlp --tabular``: the tabular networks on a raw table.

Trains :class:`~sknumpy_mlp.tabular.TabularMLPClassifier` on scikit-learn's bundled
breast-cancer table, or on a CSV file (``--csv PATH --target COLUMN``: pandas reads it,
non-numeric columns are categorical, missing values are allowed); with
``--regression``, :class:`~sknumpy_mlp.tabular.TabularMLPRegressor` on the bundled
diabetes table. The estimator preprocesses the table itself, so nothing is scaled or
encoded here. :mod:`sknumpy_mlp.__main__` adds the options and dispatches here.
"""

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

# Options of the other modes that mean nothing to a tabular network.
_NOT_TABULAR = {"data": "--data", "fashion_mnist": "--fashion-mnist",
                "solver": "--solver", "learning_rate": "--learning-rate",
                "warmup_iter": "--warmup-iter", "alpha": "--alpha",
                "batch_norm": "--batch-norm", "pca": "--pca",
                "early_stopping": "--early-stopping", "max_iter": "--max-iter"}
_HINTS = {"max_iter": " (use --n-epochs)", "alpha": " (use --weight-decay)",
          "early_stopping": " (a tabular network always keeps its best epoch on a "
                            "hold-out)"}
# Shared options -> the estimator's parameters; passed only when given, so that the
# estimator's own defaults hold otherwise.
_PASSED = {"hidden": "hidden_layer_sizes", "activation": "activation",
           "learning_rate_init": "learning_rate", "weight_decay": "weight_decay",
           "batch_size": "batch_size", "dropout": "dropout",
           "label_smoothing": "label_smoothing", "class_weight": "class_weight"}


def _auto_or_positive(text):
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive whole number, "
                                         f"got {text!r}")
    return value


def add_arguments(parser):
    """Add ``--tabular`` and its options to the command's ``parser``."""
    group = parser.add_argument_group(
        "tabular data (--tabular: scikit-learn's bundled breast cancer table, or a CSV)")
    group.add_argument(
        "--tabular", action="store_true",
        help="train sknumpy_mlp.tabular's TabularMLPClassifier (RealMLP-TD: it takes "
             "numeric and categorical columns and missing values as they are) on "
             "scikit-learn's bundled breast cancer table (569 rows, 30 columns), or on "
             "--csv; with --regression, TabularMLPRegressor on the diabetes table. "
             "Stratified 75/25 split drawn with --random-state. --hidden, --activation, "
             "--learning-rate-init, --weight-decay, --batch-size, --dropout, "
             "--label-smoothing and --class-weight change the estimator's defaults")
    group.add_argument(
        "--csv", metavar="PATH",
        help="with --tabular: a CSV file with a header row, read by pandas; columns "
             "that pandas does not read as numbers are categorical")
    group.add_argument("--target", metavar="COLUMN",
                       help="with --csv: the column to predict")
    group.add_argument("--n-epochs", type=_auto_or_positive, default="auto", metavar="N",
                       help="with --tabular: epochs per ensemble member (default: auto)")
    group.add_argument("--n-members", type=_auto_or_positive, default="auto",
                       metavar="N",
                       help="with --tabular: networks in the ensemble (default: auto)")


def requested(args):
    """Whether the command line asks for the tabular mode (or misuses its options)."""
    return bool(args.tabular) or args.csv is not None or args.target is not None


def _given(parser, argv):
    """The destinations of the options written on the command line."""
    unset = object()
    namespace = argparse.Namespace(**{a.dest: unset for a in parser._actions})
    parser.parse_args(argv, namespace=namespace)
    return {dest for dest, value in vars(namespace).items() if value is not unset}


def _check_options(parser, args, given):
    if not args.tabular:
        option = "--csv" if args.csv is not None else "--target"
        parser.error(f"argument {option}: only with --tabular, e.g. python -m "
                     "sknumpy_mlp --tabular --csv data.csv --target label")
    for dest, option in _NOT_TABULAR.items():
        if dest in given:
            parser.error(f"argument {option}: not allowed with argument --tabular"
                         f"{_HINTS.get(dest, '')}")
    if (args.csv is None) != (args.target is None):
        parser.error("argument --csv: needs --target COLUMN, the column to predict"
                     if args.target is None else
                     "argument --target: only with --csv (the bundled tables have "
                     "their target)")


# ------------------------------------------------------------------------- data
def load_table(args, parser):
    """``(X, y, name)``: the table, its target (rows with no target dropped), a name."""
    if args.csv is None:
        from sklearn.datasets import load_breast_cancer, load_diabetes

        loader = load_diabetes if args.regression else load_breast_cancer
        bunch = loader(as_frame=True)
        return bunch.frame.drop(columns="target"), bunch.target, (
            f"scikit-learn {loader.__name__[5:].replace('_', ' ')} (bundled table)")
    import pandas as pd

    path = Path(args.csv)
    if not path.is_file():
        parser.error(f"argument --csv: {args.csv!r} "
                     f"{'is a folder' if path.is_dir() else 'does not exist'}; give a "
                     "CSV file.")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        parser.error(f"argument --csv: cannot read {args.csv!r} as a CSV file: "
                     f"{' '.join(str(exc).split())}")
    if args.target not in frame.columns:
        names = ", ".join(map(repr, frame.columns[:20]))
        more = f" and {len(frame.columns) - 20} more" if len(frame.columns) > 20 else ""
        parser.error(f"argument --target: {args.csv!r} has no column {args.target!r}; "
                     f"its columns are {names}{more}.")
    y = frame.pop(args.target)
    if frame.shape[1] == 0:
        parser.error(f"argument --csv: {args.csv!r} has no column besides the target "
                     f"{args.target!r}: nothing to learn from.")
    missing = y.isna().to_numpy()
    if missing.any():
        n = int(missing.sum())
        print(f"Note: dropped {n} row{'s' if n > 1 else ''} whose target "
              f"{args.target!r} is missing.")
        frame, y = frame[~missing], y[~missing]
    return frame, y, str(args.csv)


def _plain(value):
    """A NumPy scalar as its Python value: messages say 1.5, not np.float64(1.5)."""
    return value.item() if hasattr(value, "item") else value


def _check_target(y, args, parser):
    """Refuse a target the chosen estimator cannot learn, before any training."""
    import pandas as pd
    from sklearn.utils.multiclass import type_of_target

    column = f"the target {args.target!r}" if args.target else "the target"
    if len(y) == 0:
        parser.error(f"{column} has no values.")
    if args.regression:
        if not pd.api.types.is_numeric_dtype(y):
            parser.error(f"{column} is not numeric (e.g. {_plain(y.iloc[0])!r}); "
                         "--regression needs numbers: leave it out to classify.")
        return
    if type_of_target(y.to_numpy()) == "continuous":
        parser.error(f"{column} looks continuous ({y.nunique()} distinct values such as "
                     f"{_plain(y.iloc[0])!r}); add --regression to predict it as a number.")
    counts = y.value_counts()
    if len(counts) < 2:
        parser.error(f"{column} has one class only ({_plain(counts.index[0])!r}); a "
                     "classifier needs at least 2 classes.")
    if counts.min() < 2:
        parser.error(f"{column}'s class {_plain(counts.idxmin())!r} has only 1 row; the "
                     "stratified train/test split needs at least 2 rows per class.")


def _split(X, y, args, parser):
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(X, y, test_size=0.25, random_state=args.random_state,
                                stratify=None if args.regression else y)
    except ValueError as exc:  # e.g. fewer test rows than classes
        parser.error(f"cannot split the data 75/25: {exc}")


def _describe_data(X, y, name, n_test, args):
    from .tabular._preprocessing import _is_categorical_dtype

    n_cat = sum(_is_categorical_dtype(d) for d in X.dtypes)
    n_missing = int(X.isna().any().sum())
    target = ("a continuous target" if args.regression
              else f"{y.nunique()} classes")
    return (f"Data: {name}: {len(X) - n_test} train / {n_test} test rows, {X.shape[1]} "
            f"columns ({n_cat} categorical, {n_missing} with missing values), {target}")


# ------------------------------------------------------------------------ model
def make_estimator(args, given, bar=None):
    """The tabular estimator the options describe (not fitted)."""
    from .tabular import TabularMLPClassifier, TabularMLPRegressor

    params = {_PASSED[d]: getattr(args, d) for d in _PASSED if d in given}
    if params.get("batch_size") == "auto":
        del params["batch_size"]
    cls = TabularMLPRegressor if args.regression else TabularMLPClassifier
    est = cls(n_epochs=args.n_epochs, n_members=args.n_members,
              random_state=args.random_state,
              verbose=0 if args.quiet or bar is not None else 1, **params)
    return est if bar is None else est.set_callbacks(bar)


def describe(est):
    """The "Model:" line: the class, then the parameters that shape the fit."""
    keys = ["hidden_layer_sizes", "activation", "learning_rate", "n_epochs", "n_members",
            "batch_size", "dropout", "weight_decay", "label_smoothing", "class_weight"]
    params = est.get_params()
    params["hidden_layer_sizes"] = ",".join(map(str, params["hidden_layer_sizes"]))
    items = [f"{k}={params[k]}" for k in keys if params.get(k) is not None]
    return f"{type(est).__name__} " + " ".join(items)


# ------------------------------------------------------------------------- save
def _tiny_fit(regression):
    """A small fitted estimator with every kind of layer and column the model may hold."""
    import pandas as pd

    from .tabular import TabularMLPClassifier, TabularMLPRegressor

    rng = np.random.RandomState(0)
    x = rng.normal(size=40)
    x[::5] = np.nan
    X = pd.DataFrame({"x": x, "two": rng.choice(["a", "b"], 40),
                      "few": rng.choice(["u", "v", "w"], 40),
                      "many": [f"c{i % 12}" for i in range(40)]})
    cls = TabularMLPRegressor if regression else TabularMLPClassifier
    return cls(hidden_layer_sizes=(2,), n_epochs=1, n_members=1, front_scale=True,
               random_state=0).fit(X, np.arange(40) % 2)


def _format_holds_tabular(fmt, regression):
    """Whether a tabular model saved as ``fmt`` loads back safely, tried on a tiny one."""
    est = _tiny_fit(regression)
    try:
        if fmt == "skops":
            import skops.io

            from ._persistence import SKOPS_TRUSTED_TYPES

            skops.io.loads(skops.io.dumps(est), trusted=list(SKOPS_TRUSTED_TYPES))
        else:
            import sknumpy_mlp

            with tempfile.TemporaryDirectory() as folder:
                sknumpy_mlp.save(est, Path(folder) / "model.npz")
                sknumpy_mlp.load(Path(folder) / "model.npz")
    except Exception:  # noqa: BLE001 (any failure means: not this format)
        return False
    return True


def save_format(args, parser, check_path):
    """Check ``--save`` before training: the folder, then that the format holds the model.

    ``check_path`` is the command's own check of the folder and the file name's format.
    """
    if args.save is None:
        return None
    fmt = check_path(argparse.Namespace(**{**vars(args), "regression": False,
                                           "pca": None}), parser)
    if fmt == "joblib" or _format_holds_tabular(fmt, args.regression):
        return fmt
    path = Path(args.save)
    joblib_name = (f"{str(path.with_suffix('.joblib'))!r} (a pickle: load only files "
                   "you made)")
    if fmt == "skops":
        parser.error(f"argument --save: skops cannot yet load a tabular model with "
                     f"sknumpy_mlp's trusted types; name the file {joblib_name}.")
    names = joblib_name
    if _format_holds_tabular("skops", args.regression):
        names = f"{str(path.with_suffix('.skops'))!r} (safe) or {joblib_name}"
    parser.error(f"argument --save: sknumpy_mlp's safe format does not hold tabular "
                 f"models yet; name the file {names}.")


# -------------------------------------------------------------------------- run
def _report(est, X_test, y_test, seconds, args):
    from sklearn import metrics

    best = ", ".join(str(b + 1) for b in est.best_epochs_)
    print(f"Fit time: {seconds:.2f} s ({est.n_members_} member"
          f"{'s' if est.n_members_ > 1 else ''} x {est.n_iter_} epochs; best epoch"
          f"{'s' if est.n_members_ > 1 else ''} {best})")
    y_pred = est.predict(X_test)
    if args.regression:
        print(f"Test R^2: {metrics.r2_score(y_test, y_pred):.4f}")
        print(f"Test MAE: {metrics.mean_absolute_error(y_test, y_pred):.4f}")
        print(f"Test RMSE: {math.sqrt(metrics.mean_squared_error(y_test, y_pred)):.4f} "
              f"(standard deviation of the test target: {np.std(y_test):.4f})")
        return
    print(f"Test accuracy: {metrics.accuracy_score(y_test, y_pred):.4f}")
    if len(est.classes_) == 2:
        auc = metrics.roc_auc_score(y_test, est.predict_proba(X_test)[:, 1])
        print(f"Test ROC AUC: {auc:.4f}")
    print(metrics.classification_report(y_test, y_pred, labels=est.classes_, digits=4,
                                        zero_division=0))


def run(parser, args, argv, cli):
    """Run the tabular mode; ``cli`` is the command's module, for its shared helpers.

    Returns 0 on success, 1 when training fails or the model cannot be written; bad
    options, files and targets exit with status 2 before training.
    """
    given = _given(parser, argv)
    _check_options(parser, args, given)
    fmt = save_format(args, parser, cli.save_format)
    X, y, name = load_table(args, parser)
    _check_target(y, args, parser)
    X_train, X_test, y_train, y_test = _split(X, y, args, parser)
    print(_describe_data(X, y, name, len(X_test), args))
    est = make_estimator(args, given, None if args.quiet else cli._progress_bar())
    print(f"Model: {describe(est)}", flush=True)
    with threadpool_limits(args.threads):  # None (the default): every core
        try:
            start = time.perf_counter()
            est.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        _report(est, X_test, y_test, seconds, args)
    if args.save:
        try:
            loader = cli.save_model(est, args.save, fmt)
        except OSError as exc:
            print(f"error: could not save the model to {args.save}: {exc}",
                  file=sys.stderr)
            return 1
        print(f"Saved the model to {args.save} (load it with {loader}).")
    return 0
