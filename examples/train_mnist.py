"""
=====================================================
MNIST / Fashion-MNIST, side by side with scikit-learn
=====================================================

Train :class:`~sknumpy_mlp.MLPScratchClassifier` on MNIST-format data (60,000
training and 10,000 test images of 28x28 pixels) and, with ``--compare``,
scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` with the same
settings on the same float32 data in the same run. Reports the test accuracy,
the fit time and a text confusion matrix for each.

Where the data come from, first match wins:

1. ``--data DIR``: a folder with the four IDX files (``train-images-idx3-ubyte``
   etc., optionally gzipped) as MNIST and Fashion-MNIST ship them;
2. ``--openml mnist_784`` or ``--openml Fashion-MNIST``: download from OpenML
   (needs a network; cached in ``~/scikit_learn_data``);
3. Fashion-MNIST installed by Debian's ``dataset-fashion-mnist`` package
   (:func:`sknumpy_mlp.datasets.find_fashion_mnist`);
4. otherwise scikit-learn's bundled 8x8 digits, with a message.

``SKNUMPY_MLP_QUICK=1`` (set by CI) trains on a 2,000-image subset for 3 epochs.
Example (the README's numbers)::

    python examples/train_mnist.py --compare --hidden 256,128 --batch-size 128 \\
        --max-iter 15
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from sknumpy_mlp import MLPScratchClassifier, datasets

QUICK = os.environ.get("SKNUMPY_MLP_QUICK") == "1"
FASHION_LABELS = ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                  "Shirt", "Sneaker", "Bag", "Boot")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Train sknumpy_mlp (and, with --compare, scikit-learn's "
                    "MLPClassifier) on MNIST-format data.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="DIR",
                        help="folder of MNIST-format IDX files")
    source.add_argument("--openml", choices=["mnist_784", "Fashion-MNIST"],
                        help="download this data set from OpenML (needs a network)")
    parser.add_argument("--compare", action="store_true",
                        help="also train scikit-learn's MLPClassifier, same settings")
    parser.add_argument("--hidden", default="256,128",
                        help="hidden layer sizes, comma-separated (default: 256,128)")
    parser.add_argument("--max-iter", type=int, default=15,
                        help="epochs (default: 15)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help="minibatch size (default: 128)")
    parser.add_argument("--solver", default="adam", help="solver (default: adam)")
    parser.add_argument("--activation", default="relu",
                        help="hidden activation (default: relu)")
    parser.add_argument("--learning-rate-init", type=float, default=0.001,
                        help="initial learning rate (default: 0.001)")
    parser.add_argument("--alpha", type=float, default=1e-4,
                        help="L2 penalty (default: 1e-4)")
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed (default: 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for both models (default: 1; an MLP's "
                             "minibatch products are small and extra threads mostly "
                             "wait for each other, badly so on a busy machine)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return parser.parse_args(argv)


def load(args):
    """Return ``(X_train, y_train, X_test, y_test, name, labels)``."""
    if args.data:
        return (*datasets.load_idx_folder(args.data), f"IDX files in {args.data}",
                None)
    if args.openml:
        labels = FASHION_LABELS if args.openml == "Fashion-MNIST" else None
        return (*datasets.load_openml(args.openml), f"{args.openml} (OpenML)", labels)
    folder = datasets.find_fashion_mnist()
    if folder is not None:
        return (*datasets.load_idx_folder(folder), f"Fashion-MNIST ({folder})",
                FASHION_LABELS)
    print("No MNIST-format data found: pass --data DIR or --openml mnist_784, or "
          "install Fashion-MNIST (apt-get install dataset-fashion-mnist). Using "
          "scikit-learn's 8x8 digits instead.")
    return (*datasets.load_digits_split(), "scikit-learn digits (8x8)", None)


def subset(X, y, n, seed=0):
    """The first ``n`` rows of a fixed random permutation (stratified enough here)."""
    if n >= len(y):
        return X, y
    rows = np.random.RandomState(seed).permutation(len(y))[:n]
    return X[rows], y[rows]


def train(model, X_train, y_train, X_test, y_test, threads):
    """Fit and score ``model``; return a dict of results."""
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed epoch budget
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        y_pred = model.predict(X_test)
        predict_time = time.perf_counter() - start
    return {"accuracy": accuracy_score(y_test, y_pred), "fit_time": fit_time,
            "predict_time": predict_time, "epochs": model.n_iter_, "y_pred": y_pred}


def print_confusion(y_true, y_pred, classes, labels):
    """A text confusion matrix: one row per true class, one column per prediction."""
    names = [str(c) if labels is None else labels[c] for c in classes]
    cm = confusion_matrix(y_true, y_pred, labels=classes)
    width = max(5, max(map(len, names)) + 1)
    print(" " * width + "".join(f"{n[:width - 1]:>{width}}" for n in names))
    for name, row in zip(names, cm):
        print(f"{name:>{width}}" + "".join(f"{v:>{width}}" for v in row))


def main(argv=None):
    args = parse_args(argv)
    X_train, y_train, X_test, y_test, name, labels = load(args)
    if QUICK:
        X_train, y_train = subset(X_train, y_train, 2000)
        X_test, y_test = subset(X_test, y_test, 1000)
        args.max_iter = min(args.max_iter, 3)
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    print(f"{name}: {len(y_train)} training / {len(y_test)} test images, "
          f"{X_train.shape[1]} pixels, float32")
    settings = dict(
        hidden_layer_sizes=tuple(int(h) for h in args.hidden.split(",")),
        activation=args.activation, solver=args.solver, alpha=args.alpha,
        batch_size=args.batch_size, learning_rate_init=args.learning_rate_init,
        max_iter=args.max_iter, random_state=args.random_state,
        verbose=not args.quiet)
    print("settings:", {k: v for k, v in settings.items() if k != "verbose"})
    models = {"sknumpy_mlp": MLPScratchClassifier(**settings)}
    if args.compare:
        models["scikit-learn"] = MLPClassifier(**settings)
    results = {}
    for model_name, model in models.items():
        print(f"\n== {model_name} ==", flush=True)
        results[model_name] = result = train(model, X_train, y_train, X_test, y_test,
                                             args.threads)
        print(f"test accuracy {result['accuracy']:.4f}, fit {result['fit_time']:.1f} s "
              f"({result['epochs']} epochs), predict {result['predict_time']:.2f} s")
        print_confusion(y_test, result["y_pred"], model.classes_, labels)
    print(f"\n{'model':<14}{'accuracy':>10}{'fit time':>12}{'s/epoch':>10}")
    for model_name, r in results.items():
        print(f"{model_name:<14}{r['accuracy']:>10.4f}{r['fit_time']:>10.1f} s"
              f"{r['fit_time'] / r['epochs']:>10.2f}")
    if args.compare:
        ours, theirs = results["sknumpy_mlp"], results["scikit-learn"]
        agree = np.mean(ours["y_pred"] == theirs["y_pred"])
        print(f"speed-up {theirs['fit_time'] / ours['fit_time']:.2f}x; the two models "
              f"agree on {agree:.1%} of the test images")
    if os.environ.get("SKNUMPY_MLP_SAVE_FIGURES") == "1":
        save_confusion_figure(y_test, results["sknumpy_mlp"], models["sknumpy_mlp"],
                              labels, name)


def save_confusion_figure(y_test, result, model, labels, name):
    """Save our model's confusion matrix as examples/figures/train_mnist.png."""
    from pathlib import Path

    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    names = None if labels is None else [labels[c] for c in model.classes_]
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(
        y_test, result["y_pred"], display_labels=names, ax=ax, colorbar=False,
        xticks_rotation=45)
    ax.set_title(f"{name.split(' (')[0]}: test accuracy {result['accuracy']:.4f}, "
                 f"fit {result['fit_time']:.0f} s")
    out = Path(__file__).resolve().parent / "figures"
    out.mkdir(exist_ok=True)
    fig.savefig(out / "train_mnist.png", dpi=80)


if __name__ == "__main__":
    main()
