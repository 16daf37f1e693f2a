"""``python -m sknumpy_mlp serve``: train or load a model, then serve the page."""

import argparse
import time
import warnings

__all__ = ["build_parser", "main", "train_default"]

_EPILOG = """\
examples:
  python -m sknumpy_mlp serve                  # digits, trained in about a second
  python -m sknumpy_mlp serve --port 8000
  python -m sknumpy_mlp serve --data ~/mnist   # MNIST IDX files, 28x28 input
  python -m sknumpy_mlp serve --model digits.npz"""


def build_parser():
    """The ``serve`` subcommand's options."""
    parser = argparse.ArgumentParser(
        prog="python -m sknumpy_mlp serve",
        description="Draw a digit in the browser and watch the network read it. "
        "Trains an MLPScratchClassifier on scikit-learn's bundled 8x8 digits (or "
        "loads one, or trains on MNIST-format IDX files), then serves a page that "
        "shows its probabilities live as you draw.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", metavar="PATH",
                        help="a model saved with sknumpy_mlp.save (or the CLI's --save) "
                        "taking 64 (8x8) or 784 (28x28) features in [0, 1]")
    parser.add_argument("--data", metavar="DIR",
                        help="a folder of MNIST-format IDX files: train on it (or, with "
                        "--model, take its test images for the panel)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine "
                        "only; 0.0.0.0 opens the page to the network)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port (default: 8000; 0 picks a free one)")
    parser.add_argument("--max-iter", type=_positive_int, default=None,
                        help="training epochs (default: 200 on digits, 10 on IDX data)")
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed of the training and of the test images shown")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _positive_int(text):
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def train_default(X, y, *, max_iter=200, random_state=0):
    """The page's default network: one hidden layer of 256 ReLUs, Adam.

    On the 1,347 training digits this takes about a second and scores about 0.98.
    """
    from sklearn.exceptions import ConvergenceWarning

    from .._estimator import MLPScratchClassifier

    model = MLPScratchClassifier(hidden_layer_sizes=(256,), alpha=1e-3,
                                 max_iter=max_iter, random_state=random_state)
    with warnings.catch_warnings():  # a short run is meant to stop before convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def build_reader(args, parser):
    """The :class:`DigitReader` that ``args`` describe; errors exit through argparse."""
    from .. import datasets
    from .._persistence import load
    from ._app import DigitReader

    if args.data is not None:
        try:
            X_train, y_train, X_test, y_test = datasets.load_idx_folder(args.data)
        except (OSError, ValueError) as exc:
            parser.error(str(exc))
        name = f"IDX files in {args.data}"
    else:
        X_train, y_train, X_test, y_test = datasets.load_digits_split()
        name = "scikit-learn digits (8x8)"
    if args.model is not None:
        try:
            model = load(args.model)
        except (OSError, ValueError, TypeError) as exc:
            parser.error(f"cannot load {args.model}: {exc}")
        description = f"{type(model).__name__} loaded from {args.model}"
        if getattr(model, "n_features_in_", None) != X_test.shape[1]:
            X_test = y_test = None  # the panel needs images of the model's size
    else:
        max_iter = args.max_iter or (200 if args.data is None else 10)
        start = time.perf_counter()
        model = train_default(X_train, y_train, max_iter=max_iter,
                              random_state=args.random_state)
        seconds = time.perf_counter() - start
        description = (f"256 ReLU units, trained on {len(X_train)} images of {name} "
                       f"in {seconds:.1f} s")
        print(f"Trained on {name}: {len(X_train)} images, {seconds:.1f} s", flush=True)
    try:
        return DigitReader(model, X_test, y_test, description=description,
                           random_state=args.random_state)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv=None):
    """Run ``serve`` with ``argv`` (the arguments after ``serve``); Ctrl-C stops it.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``serve``; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 after a clean stop; argument errors exit with status 2.
    """
    from ._http import make_server

    parser = build_parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, got {args.port}")
    reader = build_reader(args, parser)
    try:
        server = make_server(reader, args.host, args.port, verbose=args.verbose)
    except OSError as exc:
        parser.error(f"cannot listen on {args.host}:{args.port}: {exc}")
    if reader.accuracy is not None:
        print(f"Test accuracy: {reader.accuracy:.4f} on {len(reader.X_test)} images")
    if not server.loopback_only:
        print(f"Warning: listening on {args.host}: other machines can reach the page.")
    print(f"Serving on {server.url}  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        server.server_close()
    return 0
