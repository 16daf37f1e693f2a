"""Command line: train an MLPScratchClassifier and report how well it does.

``python -m sknumpy_mlp`` (or the ``sknumpy-mlp`` console script) trains on
scikit-learn's bundled 8x8 digits, which needs no download, then prints the test
accuracy, a classification report and the fit time. ``--data DIR`` and
``--fashion-mnist`` switch to MNIST-format IDX files; ``--regression`` trains an
MLPScratchRegressor on scikit-learn's bundled diabetes data instead and prints R^2,
MAE and RMSE; ``--tabular`` trains the tabular networks on a raw table (bundled, or
``--csv``; see :mod:`._cli_tabular`); ``--help`` lists every option.
"""

import argparse
import importlib.util
import math
import os
import shlex
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from . import __version__
from ._optimizers import SOLVERS
from ._schedules import LEARNING_RATES

# Class names of Fashion-MNIST, in label order (Xiao, Rasul and Vollgraf, 2017).
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_SOLVERS = tuple(SOLVERS)
_SCHEDULES = tuple(LEARNING_RATES)
_DECAYING_SOLVERS = tuple(n for n, s in SOLVERS.items() if "weight_decay" in s.reads)

_DESCRIPTION = """\
Train sknumpy_mlp's MLPScratchClassifier (scikit-learn's MLPClassifier with a
hand-written NumPy core) and print the test accuracy, a per-class report and the
fit time. Without a data option it uses scikit-learn's bundled 8x8 digits
(1,797 images, no download): 75% train, 25% test, pixels scaled to [0, 1].
Data are converted to float32 for speed. --regression trains MLPScratchRegressor
on scikit-learn's bundled diabetes data (442 patients, 10 features, a disease
progression score; same 75/25 split) and prints R^2, MAE and RMSE instead: features
and target are standardized on the training set, as a Pipeline and a
TransformedTargetRegressor, so the default learning rate suits them."""

_EPILOG = """\
examples:
  python -m sknumpy_mlp
  python -m sknumpy_mlp --hidden 128 --solver sgd --learning-rate-init 0.05
  python -m sknumpy_mlp --fashion-mnist --max-iter 15 --batch-size 128
  python -m sknumpy_mlp --data ~/mnist --early-stopping --save mnist.npz
  python -m sknumpy_mlp --regression --hidden 64 --early-stopping --save diabetes.skops
  python -m sknumpy_mlp --tabular --csv table.csv --target label --save table.joblib
  python -m sknumpy_mlp --fashion-mnist --pca 200 --hidden 1024,512 --solver adamw \\
      --learning-rate cosine --max-iter 30 --batch-size 256 --dropout 0.3 \\
      --batch-norm --label-smoothing 0.1 --threads 2"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Wrap help text without splitting names such as dataset-fashion-mnist."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _hidden_sizes(text):
    """Parse ``"256,128"`` into ``(256, 128)``; raise a readable argparse error."""
    parts = [p.strip() for p in text.split(",")]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if not sizes or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 256,128 "
            f"(one per hidden layer), got {text!r}")
    return sizes


def _number(kind, accept, expected):
    """An argparse type: ``kind(text)`` if finite and ``accept`` says yes.

    ``float("inf")`` and ``float("nan")`` parse, and ``inf`` passes bounds such as
    ``v >= 0``, so non-finite values are refused here, before any bound is checked.
    """
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is not None and not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"expected {expected}, got {text!r} (infinity and NaN are not allowed)")
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


def _positive(kind):
    return _number(kind, lambda v: v > 0, f"a positive {kind.__name__}")


def _non_negative(kind):
    noun = "a whole number" if kind is int else "a number"
    return _number(kind, lambda v: v >= 0, f"{noun} >= 0")


def _fraction(expected="a number in [0, 1)"):
    return _number(float, lambda v: 0.0 <= v < 1.0, expected)


def _batch_size(text):
    return "auto" if text == "auto" else _positive(int)(text)


def _program_name():
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "sknumpy-mlp" if script == "sknumpy-mlp" else "python -m sknumpy_mlp"


def build_parser():
    """Return the :class:`argparse.ArgumentParser` of ``python -m sknumpy_mlp``.

    Returns
    -------
    parser : argparse.ArgumentParser
        The command-line parser.
    """
    from ._activations import ACTIVATIONS

    full_batch = " and ".join(n for n, solver in SOLVERS.items() if not solver.stochastic)
    sgd_only = " and ".join(n for n, r in LEARNING_RATES.items() if r.solvers == ("sgd",))
    decaying = " and ".join(n for n, r in LEARNING_RATES.items() if r.decay != "constant")
    parser = argparse.ArgumentParser(
        prog=_program_name(), description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=_HelpFormatter)
    data = parser.add_argument_group("data (default: scikit-learn's bundled digits)")
    source = data.add_mutually_exclusive_group()
    source.add_argument(
        "--data", metavar="DIR",
        help="folder with the four MNIST-format IDX files as MNIST and Fashion-MNIST "
             "ship them: train-images-idx3-ubyte, train-labels-idx1-ubyte, "
             "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each may end in .gz)")
    source.add_argument(
        "--regression", action="store_true",
        help="train MLPScratchRegressor on scikit-learn's bundled diabetes data "
             "(442 samples, 10 features, no download) and report R^2, MAE and RMSE; "
             "features and target are standardized on the training set (a Pipeline "
             "and a TransformedTargetRegressor, saved with the model, so --save needs "
             "a .skops or .joblib name)")
    source.add_argument(
        "--fashion-mnist", action="store_true",
        help="use Fashion-MNIST as installed by Debian's package dataset-fashion-mnist "
             "(apt-get install dataset-fashion-mnist), or from the folder named by "
             "the environment variable SKNUMPY_MLP_FASHION_MNIST")
    model = parser.add_argument_group("model and training")
    model.add_argument(
        "--hidden", type=_hidden_sizes, default=(256, 128), metavar="SIZES",
        help="hidden layer sizes, comma-separated, one number per layer "
             "(default: 256,128)")
    model.add_argument(
        "--max-iter", type=_positive(int), default=30, metavar="N",
        help="maximum number of epochs (L-BFGS: iterations) (default: 30)")
    model.add_argument(
        "--activation", choices=list(ACTIVATIONS), default="relu", metavar="NAME",
        help=f"activation of the hidden layers: {', '.join(ACTIVATIONS)} "
             "(default: relu)")
    model.add_argument(
        "--solver", choices=_SOLVERS, default="adam", metavar="NAME",
        help=f"weight optimizer: {', '.join(_SOLVERS)}; {full_batch} is "
             "full-batch and suits small data sets only (default: adam)")
    model.add_argument(
        "--learning-rate-init", type=_positive(float), default=0.001, metavar="LR",
        help="initial learning rate of the stochastic solvers (default: 0.001)")
    model.add_argument(
        "--learning-rate", choices=_SCHEDULES, default="constant", metavar="SCHEDULE",
        help=f"learning-rate schedule: {', '.join(_SCHEDULES)}; {sgd_only} act "
             f"for sgd only, {decaying} decay over --max-iter epochs for every "
             "stochastic solver (default: constant)")
    model.add_argument(
        "--warmup-iter", type=_non_negative(int), default=0, metavar="N",
        help="epochs of linear learning-rate warm-up (default: 0)")
    model.add_argument(
        "--alpha", type=_non_negative(float), default=1e-4, metavar="L2",
        help="L2 penalty, as scikit-learn's alpha (default: 0.0001)")
    model.add_argument(
        "--weight-decay", type=_non_negative(float), default=0.01, metavar="WD",
        help=f"decoupled weight decay of {' and '.join(_DECAYING_SOLVERS)} (default: 0.01)")
    model.add_argument(
        "--batch-size", type=_batch_size, default="auto", metavar="N",
        help="minibatch size, or 'auto' for min(200, n_samples) (default: auto)")
    model.add_argument(
        "--dropout", type=_fraction("a rate in [0, 1) such as 0.2"), default=0.0,
        metavar="RATE",
        help="dropout rate after each hidden layer, in [0, 1); not with lbfgs "
             "(default: 0, no dropout)")
    model.add_argument(
        "--batch-norm", action="store_true",
        help="batch normalization after each hidden layer")
    model.add_argument(
        "--label-smoothing", type=_fraction(), default=0.0, metavar="EPS",
        help="mix the one-hot targets with the uniform distribution, in [0, 1); "
             "classification only (default: 0)")
    model.add_argument(
        "--class-weight", choices=["balanced"], default=None,
        help="'balanced' weighs each class by n_samples / (n_classes * count); "
             "classification only")
    model.add_argument(
        "--pca", type=_positive(int), default=None, metavar="N",
        help="project the inputs on their first N principal components (scikit-learn's "
             "PCA, fitted on the training set) before the network, as a Pipeline: the "
             "first layer gets N inputs instead of 784 pixels, which makes wide networks "
             "much faster (default: off)")
    model.add_argument(
        "--early-stopping", action="store_true",
        help="hold out 10%% of the training data, stop when its accuracy (R^2 with "
             "--regression) stops improving and keep the best weights")
    model.add_argument(
        "--random-state", type=int, default=0, metavar="SEED",
        help="seed of the initialization, shuffling and dropout (default: 0)")
    model.add_argument(
        "--threads", type=_positive(int), default=None, metavar="N",
        help="BLAS threads for training and prediction (default: 1). An MLP's "
             "minibatch products are small: extra threads mostly wait for each "
             "other, and on a busy machine can make training 10x slower; try 2-4 "
             "for wide layers on an idle machine. With --tabular: threads for the "
             "ensemble's members, one BLAS thread each (default: every core)")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--save", metavar="PATH",
        help="save the fitted model to PATH, in the format its name says: .skops "
             "for skops, .joblib (or .pkl) for joblib, any other name for "
             "sknumpy_mlp's safe format (sknumpy_mlp.load), which holds the network "
             "alone, so --pca needs .skops or .joblib. The folder must exist; it is "
             "checked before training. The command prints how to load the file")
    output.add_argument(
        "--quiet", action="store_true",
        help="no per-epoch progress, only the results")
    output.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}",
        help="print the version of sknumpy_mlp and exit")
    from ._cli_tabular import add_arguments

    add_arguments(parser)  # --tabular, --csv, --target, --n-epochs, --n-members
    return parser


# Options that only a classifier reads; with --regression they are refused.
_CLASSIFICATION_ONLY = {"label_smoothing": "--label-smoothing",
                        "class_weight": "--class-weight"}


def parse_args(parser, argv):
    """Parse ``argv``; refuse classification-only options given with --regression.

    ``--data`` and ``--fashion-mnist`` share a mutually exclusive group with
    ``--regression``, so argparse refuses those itself. The classification-only
    options are parsed into a namespace where they are already None: argparse
    then leaves them None unless given, which tells "given as 0" from "not given".
    """
    args = parser.parse_args(argv, namespace=argparse.Namespace(
        **dict.fromkeys(_CLASSIFICATION_ONLY)))
    for dest, option in _CLASSIFICATION_ONLY.items():
        if args.regression and getattr(args, dest) is not None:
            parser.error(f"argument {option}: not allowed with argument "
                         "--regression (it acts on class labels)")
    if args.label_smoothing is None:
        args.label_smoothing = parser.get_default("label_smoothing")
    return args


def load_diabetes_split():
    """scikit-learn's bundled diabetes data, split 75/25 with a fixed seed.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        331 training and 111 test samples, 10 features (as scikit-learn ships
        them: centred, each column scaled to unit norm), float targets.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0)
    return X_train, y_train, X_test, y_test


def load_data(args, parser):
    """Return ``(X_train, y_train, X_test, y_test, name, target_names)``."""
    from . import datasets

    if args.regression:
        return (*load_diabetes_split(), "scikit-learn diabetes (regression)", None)
    if args.fashion_mnist:
        folder = datasets.find_fashion_mnist()
        if folder is None:
            parser.error(
                "Fashion-MNIST is not installed. Install it with "
                "`apt-get install dataset-fashion-mnist` (Debian/Ubuntu), point the "
                "environment variable SKNUMPY_MLP_FASHION_MNIST at a folder of its "
                "IDX files, or pass that folder with --data DIR.")
        name, target_names = f"Fashion-MNIST ({folder})", FASHION_MNIST_CLASSES
    elif args.data is not None:
        folder, name, target_names = args.data, f"IDX files in {args.data}", None
    else:
        splits = datasets.load_digits_split()  # fixed split: seeds change the model
        return (*splits, "scikit-learn digits (8x8)", None)
    try:
        splits = datasets.load_idx_folder(folder)
    except (OSError, ValueError) as exc:
        missing = isinstance(exc, FileNotFoundError) and _missing_idx_files(folder)
        option = "" if args.fashion_mnist else "argument --data: "
        parser.error(option + (missing or str(exc)))
    return (*splits, name, target_names)


def _missing_idx_files(folder):
    """Say what the folder lacks, naming each of the four files once.

    :func:`datasets.load_idx_folder` names the missing files and then all four it
    expects, so with an empty folder each name is printed twice.
    """
    from .datasets import _IDX_STEMS

    folder = Path(folder)
    found = [s for s in _IDX_STEMS
             if (folder / s).is_file() or (folder / f"{s}.gz").is_file()]
    missing = [s for s in _IDX_STEMS if s not in found]
    if not folder.is_dir():
        return (f"folder {str(folder)!r} does not exist; it should hold the four "
                f"MNIST-format files {', '.join(missing)} (each may end in .gz).")
    if not missing:
        return None
    if not found:
        return (f"{str(folder)!r} holds none of the four MNIST-format files "
                f"{', '.join(missing)} (each may end in .gz).")
    return (f"{str(folder)!r} has {', '.join(found)} but lacks {', '.join(missing)} "
            "(each may end in .gz).")


def make_estimator(args):
    """Build the classifier (the regressor with --regression) the options describe.

    The estimator is not fitted.
    """
    from ._estimator import MLPScratchClassifier
    from ._regressor import MLPScratchRegressor

    bar = None if args.quiet else _progress_bar()
    verbose = 0 if args.quiet or bar is not None else 1  # scikit-learn's epoch lines
    common = dict(
        hidden_layer_sizes=args.hidden, activation=args.activation,
        solver=args.solver, learning_rate=args.learning_rate,
        learning_rate_init=args.learning_rate_init, warmup_iter=args.warmup_iter,
        alpha=args.alpha, weight_decay=args.weight_decay, batch_size=args.batch_size,
        max_iter=args.max_iter, dropout=args.dropout, batch_norm=args.batch_norm,
        early_stopping=args.early_stopping, random_state=args.random_state,
        verbose=verbose)
    if getattr(args, "regression", False):
        est = MLPScratchRegressor(**common)
    else:
        est = MLPScratchClassifier(label_smoothing=args.label_smoothing,
                                   class_weight=args.class_weight, **common)
    return est if bar is None else est.set_callbacks(bar)


def _progress_bar():
    """scikit-learn's live ProgressBar on a terminal, when it and rich are installed.

    In logs and pipes (no terminal), and with scikit-learn < 1.9 or without rich (the
    ``progress`` extra), training prints scikit-learn's per-epoch lines instead.
    """
    if not sys.stdout.isatty():
        return None
    try:
        from sklearn.callback import ProgressBar

        return ProgressBar()
    except ImportError:  # no sklearn.callback (< 1.9), or no rich
        return None


def make_model(args):
    """The estimator, behind a PCA in a Pipeline when ``--pca`` asks for one.

    With ``--regression`` the features are standardized first (a StandardScaler
    at the head of the Pipeline) and the target too, by a TransformedTargetRegressor
    around it: diabetes scores run from 25 to 346, and an identity output started
    near 0 would spend most of its epochs at the default learning rate reaching
    their mean (R^2 about -1.9 after 30 epochs, 0.28 with the target standardized).
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    est, regression = make_estimator(args), getattr(args, "regression", False)
    steps = [StandardScaler()] if regression else []
    if args.pca is not None:
        from sklearn.decomposition import PCA

        steps.append(PCA(args.pca, random_state=args.random_state))
    model = make_pipeline(*steps, est) if steps else est
    if regression:
        from sklearn.compose import TransformedTargetRegressor

        model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
    return model


def fit_timed(model, X, y):
    """Fit ``clf``; return the wall-clock seconds and convergence notes.

    A ``ConvergenceWarning`` (``max_iter`` reached, divergence) is expected when one
    asks for few epochs, so it becomes a one-line note instead of a traceback-like
    warning; other warnings pass through unchanged.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    clf = _network_of(model)
    notes = []
    for w in caught:
        text = " ".join(str(w.message).split())
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        elif "Maximum iterations" in text or "failed to converge" in text:
            notes.append(f"trained all --max-iter {clf.max_iter} "
                         f"{'iterations' if clf.solver == 'lbfgs' else 'epochs'}; the "
                         "loss was still falling (raise --max-iter to train longer).")
        else:
            notes.append(text)
    return seconds, notes


def _network_of(model):
    """The fitted MLPScratch estimator, also when it ends a Pipeline.

    A TransformedTargetRegressor fits a clone of its ``regressor``: the fitted one
    is ``regressor_``.
    """
    model = getattr(model, "regressor_", model)
    return model[-1] if hasattr(model, "steps") else model


_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_LOADERS = {
    "npz": "sknumpy_mlp.load",
    "skops": "skops.io.load(path, trusted=sknumpy_mlp._persistence.SKOPS_TRUSTED_TYPES)",
    "joblib": "joblib.load; a pickle: load only files you made",
}


def save_format(args, parser):
    """Check ``--save`` before training; return "npz", "skops", "joblib" or None.

    The name decides the format: ``.skops`` for skops, ``.joblib``/``.pkl``/
    ``.pickle`` for joblib, anything else for sknumpy_mlp's safe ``.npz`` format,
    which holds a lone MLPScratchClassifier only, so ``--pca`` needs one of the
    other two. A folder that is missing or not writable is refused here, with
    status 2, rather than after a long fit.
    """
    if args.save is None:
        return None
    path = Path(args.save)
    folder = path.parent  # Path("model.npz").parent is Path(".")
    if path.is_dir():
        parser.error(f"argument --save: {args.save!r} is a folder; give a file name "
                     f"such as {str(path / 'model.npz')!r}.")
    if not folder.is_dir():
        parser.error(f"argument --save: the folder {str(folder)!r} does not exist; "
                     f"create it first (mkdir -p {shlex.quote(str(folder))}) or save "
                     "elsewhere.")
    if not os.access(folder, os.W_OK) or (path.exists()
                                          and not os.access(path, os.W_OK)):
        parser.error(f"argument --save: {args.save!r} is not writable (permission "
                     "denied); save to a folder you can write to.")
    suffix = path.suffix.lower()
    if suffix == ".skops":
        if importlib.util.find_spec("skops") is None:
            parser.error("argument --save: a .skops file needs skops: pip install "
                         "'sknumpy_mlp[skops]', or use another name.")
        return "skops"
    if suffix in _PICKLE_SUFFIXES:
        return "joblib"
    wrapped = ("--regression", "TransformedTargetRegressor (standardized features and "
               "target around the network)") if getattr(args, "regression", False) else (
        ("--pca", "Pipeline (PCA, then the network)") if args.pca is not None else None)
    if wrapped:
        parser.error(
            f"argument --save: with {wrapped[0]} the model is a scikit-learn "
            f"{wrapped[1]}, which sknumpy_mlp's safe format cannot hold; name the file "
            f"{str(path.with_suffix('.skops'))!r} (safe, needs skops) or "
            f"{str(path.with_suffix('.joblib'))!r} (a pickle: load only files you made).")
    return "npz"


def save_model(model, path, fmt):
    """Save ``model`` in the format :func:`save_format` chose; return its loader."""
    if fmt == "skops":
        import skops.io

        skops.io.dump(model, path)
    elif fmt == "joblib":
        import joblib

        joblib.dump(model, path)
    else:
        import sknumpy_mlp

        sknumpy_mlp.save(model, path)
    return _LOADERS[fmt]


def _print_fit(clf, seconds, notes):
    for note in notes:
        print(f"Note: {note}")
    print(f"Fit time: {seconds:.2f} s ({clf.n_iter_} "
          f"{'iterations' if clf.solver == 'lbfgs' else 'epochs'})")


def report_regression(model, X_test, y_test, seconds, notes):
    """Print the fit time, then R^2, MAE and RMSE on the test set.

    The errors are in the target's own units; the test target's standard
    deviation beside RMSE is what predicting the mean would score.
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_pred = model.predict(X_test)
    _print_fit(_network_of(model), seconds, notes)
    print(f"Test R^2: {r2_score(y_test, y_pred):.4f}")
    print(f"Test MAE: {mean_absolute_error(y_test, y_pred):.4f}")
    print(f"Test RMSE: {math.sqrt(mean_squared_error(y_test, y_pred)):.4f} "
          f"(standard deviation of the test target: {np.std(y_test):.4f})")


def report(model, X_test, y_test, seconds, notes, target_names):
    """Print the fit time, the test accuracy and the classification report."""
    from sklearn.metrics import accuracy_score, classification_report

    clf = _network_of(model)
    y_pred = model.predict(X_test)
    _print_fit(clf, seconds, notes)
    print(f"Test accuracy: {accuracy_score(y_test, y_pred):.4f}")
    names = None if target_names is None else [
        target_names[c] if 0 <= c < len(target_names) else str(c) for c in clf.classes_]
    print(classification_report(y_test, y_pred, labels=clf.classes_,
                                target_names=names, digits=4, zero_division=0))


def describe(args):
    """The "Model:" line: every option that shapes the fit, in ``name=value`` form.

    The core options are always shown; the others only when they act: weight decay
    with a solver that reads it (adamw), warm-up, label smoothing and class
    weights when set, flags when on.
    """
    items = ["standardize=X,y"] if getattr(args, "regression", False) else []
    items += [f"pca={args.pca}"] if args.pca else []
    items += [f"hidden={','.join(map(str, args.hidden))}",
              f"activation={args.activation}", f"solver={args.solver}"]
    if args.solver in _DECAYING_SOLVERS:
        items.append(f"weight_decay={args.weight_decay:g}")
    items += [f"lr={args.learning_rate_init:g}", f"schedule={args.learning_rate}"]
    if args.warmup_iter:
        items.append(f"warmup_iter={args.warmup_iter}")
    items += [f"batch={args.batch_size}", f"max_iter={args.max_iter}",
              f"alpha={args.alpha:g}", f"dropout={args.dropout:g}"]
    items += [name for name, on in [("batch_norm", args.batch_norm),
                                    ("early_stopping", args.early_stopping)] if on]
    if args.label_smoothing:
        items.append(f"label_smoothing={args.label_smoothing:g}")
    if args.class_weight:
        items.append(f"class_weight={args.class_weight}")
    return " ".join(items)


def main(argv=None):
    """Run the command line with ``argv`` (``sys.argv[1:]`` when None).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, without the program name.

    Returns
    -------
    status : int
        0 on success, 1 when training fails (e.g. dropout with lbfgs) or the
        model cannot be written; argument, data and ``--save`` path errors exit
        with status 2, before training, through
        :meth:`argparse.ArgumentParser.error`.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["serve"]:  # the drawing page has its own options
        from .serve import main as serve_main

        return serve_main(argv[1:])
    parser = build_parser()
    args = parse_args(parser, argv)
    from . import _cli_tabular

    if _cli_tabular.requested(args):  # a raw table: its own data, model and report
        return _cli_tabular.run(parser, args, argv, sys.modules[__name__])
    fmt = save_format(args, parser)  # before the data and the fit: fail fast
    X_train, y_train, X_test, y_test, name, target_names = load_data(args, parser)
    X_train = np.asarray(X_train, dtype=np.float32)
    X_test = np.asarray(X_test, dtype=np.float32)
    target = ("a continuous target" if args.regression
              else f"{len(np.unique(y_train))} classes")
    print(f"Data: {name}: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
          f"{X_train.shape[1]} features, {target}")
    model = make_model(args)
    print(f"Model: {describe(args)}", flush=True)
    with threadpool_limits(args.threads or 1):
        try:
            seconds, notes = fit_timed(model, X_train, y_train)
        except ValueError as exc:  # invalid combination, or non-finite weights
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.regression:
            report_regression(model, X_test, y_test, seconds, notes)
        else:
            report(model, X_test, y_test, seconds, notes, target_names)
    if args.save:
        try:
            loader = save_model(model, args.save, fmt)
        except OSError as exc:  # e.g. the disk filled up during the fit
            print(f"error: could not save the model to {args.save}: {exc}",
                  file=sys.stderr)
            return 1
        print(f"Saved the model to {args.save} (load it with {loader}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
