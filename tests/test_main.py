"""The command line, ``python -m sknumpy_mlp``, run in-process through ``main``."""

import gzip
import importlib.metadata
import os
import re
import sys

import joblib
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

import sknumpy_mlp
import sknumpy_mlp.__main__ as main_module
from sknumpy_mlp import MLPScratchClassifier, datasets
from sknumpy_mlp.__main__ import FASHION_MNIST_CLASSES, main

QUICK = ["--hidden", "16", "--max-iter", "3", "--quiet"]


def _write_idx(path, array, magic):
    """Write ``array`` (uint8) as an IDX file: big-endian magic, sizes, then bytes."""
    header = magic.to_bytes(4, "big")
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)


def _idx_folder(folder, n_train=60, n_test=30, n_classes=3, gz=False):
    """Four small MNIST-format files: one bright 2x2 block per class on noise."""
    rng = np.random.RandomState(0)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % n_classes
        images = rng.randint(0, 40, size=(n, 6, 6))
        for i, label in enumerate(labels):
            images[i, 2 * label:2 * label + 2, 2 * label:2 * label + 2] = 250
        _write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, 2051)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, 2049)
    return folder


def _accuracy(out):
    match = re.search(r"^Test accuracy: (\d\.\d{4})$", out, re.MULTILINE)
    assert match, out
    return float(match.group(1))


def test_digits_prints_accuracy_report_and_fit_time(capsys):
    assert main(["--hidden", "64", "--max-iter", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "scikit-learn digits" in out
    assert "1347 train / 450 test samples, 64 features, 10 classes" in out
    assert _accuracy(out) > 0.9
    assert re.search(r"^Fit time: \d+\.\d\d s \(20 epochs\)$", out, re.MULTILINE)
    # sklearn's classification_report: a header and one row per digit.
    assert re.search(r"precision\s+recall\s+f1-score\s+support", out)
    for digit in range(10):
        assert re.search(rf"^\s+{digit}(\s+\d\.\d{{4}}){{3}}\s+\d+$", out, re.MULTILINE)
    assert "Iteration" not in out  # --quiet


def test_progress_lines_without_quiet(capsys):
    # Not a terminal (captured): scikit-learn's per-epoch lines, not a bar.
    assert main(["--hidden", "16", "--max-iter", "3"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^Iteration (\d), loss = \d+\.\d{8}$", out, re.MULTILINE) == [
        "1", "2", "3"]
    # max_iter reached is expected here: one readable note, not a warning.
    assert "Note: trained all --max-iter 3 epochs; the loss was still falling" in out


def test_same_model_as_the_estimator(capsys):
    """The command trains exactly the estimator its options describe."""
    main(["--hidden", "32,16", "--max-iter", "5", "--activation", "tanh",
          "--solver", "sgd", "--learning-rate-init", "0.05", "--batch-size", "64",
          "--random-state", "3", "--quiet"])
    X_train, y_train, X_test, y_test = datasets.load_digits_split()
    clf = MLPScratchClassifier(
        (32, 16), "tanh", solver="sgd", learning_rate_init=0.05, batch_size=64,
        max_iter=5, random_state=3)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train, y_train)
    assert _accuracy(capsys.readouterr().out) == round(clf.score(X_test, y_test), 4)


MODERN = ["--hidden", "32", "--max-iter", "4", "--solver", "adamw", "--weight-decay",
          "0.05", "--learning-rate", "cosine", "--warmup-iter", "1", "--alpha", "0.001",
          "--batch-norm", "--label-smoothing", "0.1", "--dropout", "0.1",
          "--class-weight", "balanced", "--quiet"]


def test_modern_options_set_the_estimator_parameters():
    clf = main_module.make_estimator(main_module.build_parser().parse_args(MODERN))
    expected = dict(hidden_layer_sizes=(32,), max_iter=4, solver="adamw",
                    weight_decay=0.05, learning_rate="cosine", warmup_iter=1, alpha=0.001,
                    batch_norm=True, label_smoothing=0.1, dropout=0.1,
                    class_weight="balanced", verbose=0)
    params = clf.get_params()
    assert {k: params[k] for k in expected} == expected


def test_modern_options_train_the_estimator_they_describe(capsys):
    main(MODERN)
    out = capsys.readouterr().out
    assert "schedule=cosine" in out and "batch_norm label_smoothing=0.1" in out
    X_train, y_train, X_test, y_test = datasets.load_digits_split()
    clf = MLPScratchClassifier(
        (32,), solver="adamw", weight_decay=0.05, learning_rate="cosine", warmup_iter=1,
        alpha=0.001, batch_norm=True, label_smoothing=0.1, dropout=0.1,
        class_weight="balanced", max_iter=4, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_train.astype(np.float32), y_train)
    assert _accuracy(out) == round(clf.score(X_test.astype(np.float32), y_test), 4)


def test_pca_trains_the_pipeline_it_describes_and_saves_it(tmp_path, capsys):
    path = tmp_path / "pipeline.joblib"
    assert main(["--pca", "20", "--hidden", "32", "--max-iter", "5", "--quiet",
                 "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pca=20" in out and "joblib.load" in out
    X_train, y_train, X_test, y_test = datasets.load_digits_split()
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    pipe = make_pipeline(PCA(20, random_state=0),
                         MLPScratchClassifier((32,), max_iter=5, random_state=0))
    with pytest.warns(ConvergenceWarning):
        pipe.fit(X_train, y_train)
    assert _accuracy(out) == round(pipe.score(X_test, y_test), 4)
    # Two fits in float32: equal but for BLAS rounding (seen: 6e-8 on OpenBLAS Haswell)
    np.testing.assert_allclose(joblib.load(path).predict_proba(X_test),
                               pipe.predict_proba(X_test), rtol=1e-5, atol=1e-7)


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--data", "--fashion-mnist", "--hidden", "--max-iter",
                   "--activation", "--solver", "--learning-rate-init", "--batch-size",
                   "--dropout", "--early-stopping", "--random-state", "--save",
                   "--quiet", "--learning-rate", "--warmup-iter", "--alpha",
                   "--weight-decay", "--batch-norm", "--label-smoothing",
                   "--class-weight", "--pca"):
        assert option in out
    assert "apt-get install dataset-fashion-mnist" in " ".join(out.split())
    assert "default: 256,128" in out


@pytest.mark.parametrize("gz", [False, True])
def test_data_folder_of_idx_files(tmp_path, capsys, gz):
    folder = _idx_folder(tmp_path, gz=gz)
    assert main(["--data", str(folder), "--hidden", "8", "--max-iter", "30",
                 "--learning-rate-init", "0.01", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"IDX files in {folder}: 60 train / 30 test samples, 36 features, " \
           "3 classes" in out
    assert _accuracy(out) == 1.0  # the classes are trivially separable


def test_fashion_mnist_uses_the_installed_folder(tmp_path, capsys, monkeypatch):
    folder = _idx_folder(tmp_path, n_classes=10, n_train=100, n_test=50)
    monkeypatch.setattr(datasets, "find_fashion_mnist", lambda: folder)
    assert main(["--fashion-mnist", *QUICK]) == 0
    out = capsys.readouterr().out
    assert f"Fashion-MNIST ({folder})" in out
    for name in FASHION_MNIST_CLASSES:  # the report names the classes
        assert name in out


def test_fashion_mnist_missing_says_how_to_install(capsys, monkeypatch):
    monkeypatch.setattr(datasets, "find_fashion_mnist", lambda: None)
    with pytest.raises(SystemExit) as exc:
        main(["--fashion-mnist"])
    assert exc.value.code == 2
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_data_folder_missing_or_incomplete(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(tmp_path / "nowhere")])
    assert exc.value.code == 2
    assert "does not exist" in capsys.readouterr().err
    _idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(SystemExit):
        main(["--data", str(tmp_path)])
    assert "t10k-labels-idx1-ubyte" in capsys.readouterr().err


def test_save_writes_a_loadable_model(tmp_path, capsys):
    path = tmp_path / "model.bin"
    assert main([*QUICK, "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Saved the model to {path}" in out
    if hasattr(sknumpy_mlp, "save"):
        model = sknumpy_mlp.load(path)
    else:
        model = joblib.load(path)
    assert isinstance(model, MLPScratchClassifier)
    _, _, X_test, y_test = datasets.load_digits_split()
    assert round(model.score(X_test, y_test), 4) == _accuracy(out)
    assert tuple(model.hidden_layer_sizes) == (16,) and model.n_iter_ == 3


def test_early_stopping_and_dropout(capsys):
    assert main(["--hidden", "32", "--max-iter", "40", "--dropout", "0.2",
                 "--early-stopping"]) == 0
    out = capsys.readouterr().out
    assert "dropout=0.2 early_stopping" in out
    assert "Validation score:" in out
    assert _accuracy(out) > 0.8


@pytest.mark.parametrize("hidden", ["3,x", "0", "256,-1", "", "1.5"])
def test_bad_hidden_is_a_clear_argparse_error(hidden, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--hidden", hidden])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --hidden" in err
    assert "comma-separated positive integers such as 256,128" in err
    assert repr(hidden) in err


@pytest.mark.parametrize("argv, message", [
    (["--dropout", "1"], "argument --dropout: expected a rate in [0, 1)"),
    (["--max-iter", "0"], "argument --max-iter: expected a positive int"),
    (["--threads", "0"], "argument --threads: expected a positive int"),
    (["--learning-rate-init", "-1"], "expected a positive float"),
    (["--batch-size", "big"], "argument --batch-size"),
    (["--solver", "newton"], "argument --solver: invalid choice"),
    (["--data", "x", "--fashion-mnist"], "not allowed with argument"),
    (["--warmup-iter", "-1"], "argument --warmup-iter: expected a whole number >= 0"),
    (["--alpha", "x"], "argument --alpha: expected a number >= 0"),
    (["--label-smoothing", "1"], "argument --label-smoothing: expected a number in [0, 1)"),
    (["--learning-rate", "linear"], "argument --learning-rate: invalid choice"),
])
def test_other_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_invalid_combination_fails_with_a_message(capsys):
    assert main(["--solver", "lbfgs", "--dropout", "0.5", *QUICK]) == 1
    assert "dropout needs a stochastic solver" in capsys.readouterr().err


def test_threads_limits_blas_during_fit(monkeypatch, capsys):
    limits = []
    real = main_module.threadpool_limits

    def recording(n):
        limits.append(n)
        return real(n)

    monkeypatch.setattr(main_module, "threadpool_limits", recording)
    assert main([*QUICK]) == 0
    assert main([*QUICK, "--threads", "2"]) == 0
    assert limits == [1, 2]  # one BLAS thread unless asked otherwise


# ---------------------------------------------- what a new user met (issue 9, section 3)
def test_save_to_a_missing_folder_fails_before_training(tmp_path, capsys, monkeypatch):
    fits = []
    monkeypatch.setattr(main_module, "fit_timed", lambda *a: fits.append(a))
    target = tmp_path / "no" / "such" / "model.npz"
    with pytest.raises(SystemExit) as exc:
        main([*QUICK, "--save", str(target)])
    assert exc.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"argument --save: the folder '{target.parent}' does not exist" in err
    assert "create it first" in err
    assert fits == [] and not target.parent.exists()  # refused before any work


def test_save_to_a_folder_name_or_a_read_only_folder(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exc:
        main([*QUICK, "--save", str(tmp_path)])
    assert exc.value.code == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root: permissions are not enforced
        real = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: (
            False if os.fspath(path) == str(locked) else real(path, mode)))
    with pytest.raises(SystemExit) as exc:
        main([*QUICK, "--save", str(locked / "model.npz")])
    assert exc.value.code == 2
    assert "is not writable (permission denied)" in capsys.readouterr().err


def test_pca_refuses_a_safe_format_name_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(main_module, "fit_timed", lambda *a: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exc:
        main(["--pca", "10", *QUICK, "--save", str(tmp_path / "model.npz")])
    assert exc.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "with --pca the model is a scikit-learn Pipeline" in err
    assert str(tmp_path / "model.skops") in err and str(tmp_path / "model.joblib") in err
    assert not (tmp_path / "model.npz").exists()


def _loaded_with_printed_loader(out, path):
    """Load ``path`` with the loader the command printed."""
    loader = re.search(r"\(load it with (.+)\)\.$", out, re.MULTILINE).group(1)
    if loader.startswith("skops.io.load"):
        skops_io = pytest.importorskip("skops.io")
        from sknumpy_mlp._persistence import SKOPS_TRUSTED_TYPES

        assert loader == ("skops.io.load(path, trusted="
                          "sknumpy_mlp._persistence.SKOPS_TRUSTED_TYPES)")
        return skops_io.load(path, trusted=SKOPS_TRUSTED_TYPES)
    if loader.startswith("joblib.load"):
        return joblib.load(path)
    assert loader == "sknumpy_mlp.load"
    return sknumpy_mlp.load(path)


@pytest.mark.parametrize("name, pca", [
    ("model.skops", True), ("model.joblib", True), ("model.skops", False),
    ("model.pkl", False), ("model.npz", False)])
def test_saved_file_loads_with_the_printed_loader(tmp_path, capsys, name, pca):
    if name.endswith(".skops"):
        pytest.importorskip("skops")
    path = tmp_path / name
    options = ["--pca", "10"] if pca else []
    assert main([*options, *QUICK, "--save", str(path)]) == 0
    out = capsys.readouterr().out
    model = _loaded_with_printed_loader(out, path)
    assert hasattr(model, "steps") == pca
    _, _, X_test, y_test = datasets.load_digits_split()
    X_test = X_test.astype(np.float32)
    assert round(model.score(X_test, y_test), 4) == _accuracy(out)
    refit = main_module.make_model(main_module.build_parser().parse_args(
        [*options, *QUICK]))
    with pytest.warns(ConvergenceWarning):
        refit.fit(datasets.load_digits_split()[0].astype(np.float32),
                  datasets.load_digits_split()[1])
    np.testing.assert_array_equal(model.predict_proba(X_test), refit.predict_proba(X_test))


def test_skops_name_without_skops_says_how_to_install(tmp_path, capsys, monkeypatch):
    real = main_module.importlib.util.find_spec
    monkeypatch.setattr(main_module.importlib.util, "find_spec",
                        lambda name: None if name == "skops" else real(name))
    with pytest.raises(SystemExit) as exc:
        main([*QUICK, "--save", str(tmp_path / "model.skops")])
    assert exc.value.code == 2
    assert "pip install 'sknumpy_mlp[skops]'" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out == f"{main_module._program_name()} {sknumpy_mlp.__version__}\n"
    # One version: the installed metadata (pyproject) and the package agree.
    assert sknumpy_mlp.__version__ == importlib.metadata.version("sknumpy_mlp")


def test_model_line_shows_every_option_that_acts():
    args = main_module.build_parser().parse_args(MODERN)
    assert main_module.describe(args) == (
        "hidden=32 activation=relu solver=adamw weight_decay=0.05 lr=0.001 "
        "schedule=cosine warmup_iter=1 batch=auto max_iter=4 alpha=0.001 dropout=0.1 "
        "batch_norm label_smoothing=0.1 class_weight=balanced")
    default = main_module.describe(main_module.build_parser().parse_args([]))
    assert default == ("hidden=256,128 activation=relu solver=adam lr=0.001 "
                       "schedule=constant batch=auto max_iter=30 alpha=0.0001 dropout=0")


@pytest.mark.parametrize("kept, message", [
    (None, "does not exist; it should hold the four MNIST-format files"),
    (0, "holds none of the four MNIST-format files"),
    (3, "but lacks t10k-labels-idx1-ubyte (each may end in .gz)"),
])
def test_data_error_names_each_file_once(tmp_path, capsys, kept, message):
    folder = tmp_path / "idx"
    if kept is not None:
        folder.mkdir()
        _idx_folder(folder)
        for stem in datasets._IDX_STEMS[kept:]:
            (folder / stem).unlink()
    with pytest.raises(SystemExit) as exc:
        main(["--data", str(folder)])
    assert exc.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"argument --data: {str(folder)!r}" in err or "argument --data: folder" in err
    assert message in err
    for stem in datasets._IDX_STEMS:
        assert err.count(stem) == 1, err


@pytest.mark.parametrize("option", [
    "--learning-rate-init", "--alpha", "--weight-decay", "--dropout",
    "--label-smoothing"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400"])
def test_float_options_refuse_infinity_and_nan(option, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main([f"{option}={value}"])  # "--alpha -inf" would read -inf as an option
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: expected" in err and repr(value) in err
    assert "infinity and NaN are not allowed" in err


def test_progress_bar_on_a_terminal_lines_elsewhere(monkeypatch):
    """A terminal gets scikit-learn's live ProgressBar; logs and pipes get plain lines."""
    pytest.importorskip("rich")
    callback = pytest.importorskip("sklearn.callback")
    args = main_module.build_parser().parse_args([])
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    clf = main_module.make_estimator(args)
    assert clf.verbose == 0
    assert [type(c) for c in clf._skl_callbacks] == [callback.ProgressBar]
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    clf = main_module.make_estimator(args)
    assert clf.verbose == 1 and not hasattr(clf, "_skl_callbacks")
    quiet = main_module.make_estimator(main_module.build_parser().parse_args(["--quiet"]))
    assert quiet.verbose == 0 and not hasattr(quiet, "_skl_callbacks")


# --regression: MLPScratchRegressor on scikit-learn's bundled diabetes data.

REGRESSION = ["--regression", "--hidden", "16", "--max-iter", "5", "--quiet"]


def _r2(out):
    match = re.search(r"^Test R\^2: (-?\d+\.\d{4})$", out, re.MULTILINE)
    assert match, out
    return float(match.group(1))


def _diabetes_fitted(X, y):
    """What REGRESSION trains: standardized features and target around the net."""
    import warnings

    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    from sknumpy_mlp import MLPScratchRegressor

    net = MLPScratchRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    model = TransformedTargetRegressor(make_pipeline(StandardScaler(), net),
                                       transformer=StandardScaler())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs, on purpose
        return model.fit(X, y)


def test_regression_reports_r2_mae_rmse_of_the_model_it_describes(capsys):
    assert main(REGRESSION) == 0
    out = capsys.readouterr().out
    assert ("Data: scikit-learn diabetes (regression): 331 train / 111 test samples, "
            "10 features, a continuous target") in out
    assert re.search(r"^Model: standardize=X,y hidden=16 activation=relu solver=adam ",
                     out, re.MULTILINE)
    assert re.search(r"^Fit time: \d+\.\d\d s \(5 epochs\)$", out, re.MULTILINE)
    X_train, y_train, X_test, y_test = main_module.load_diabetes_split()
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    model = _diabetes_fitted(X_train, y_train)
    y_pred = model.predict(X_test)
    assert _r2(out) == round(model.score(X_test, y_test), 4)
    mae = float(re.search(r"^Test MAE: (\d+\.\d{4})$", out, re.MULTILINE).group(1))
    assert mae == round(float(np.mean(np.abs(y_test - y_pred))), 4)
    rmse = re.search(r"^Test RMSE: (\d+\.\d{4}) \(standard deviation of the test "
                     r"target: (\d+\.\d{4})\)$", out, re.MULTILINE)
    assert float(rmse.group(1)) == round(float(np.sqrt(np.mean((y_test - y_pred) ** 2))), 4)
    assert float(rmse.group(2)) == round(float(np.std(y_test)), 4)
    assert "accuracy" not in out and "precision" not in out


def test_regression_defaults_give_a_sane_fit(capsys):
    # The default network and learning rate, on the standardized target.
    assert main(["--regression", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "standardize=X,y hidden=256,128" in out and "max_iter=30" in out
    assert 0.2 < _r2(out) < 0.6  # a ridge regression scores 0.36 on this split


def test_regression_make_model_is_the_described_pipeline():
    args = main_module.parse_args(main_module.build_parser(), REGRESSION + ["--pca", "5"])
    model = main_module.make_model(args)
    inner = model.regressor
    assert [type(step).__name__ for step in inner] == [
        "StandardScaler", "PCA", "MLPScratchRegressor"]
    assert type(model.transformer).__name__ == "StandardScaler"
    assert main_module.describe(args).startswith("standardize=X,y pca=5 hidden=16 ")


@pytest.mark.parametrize("argv, message", [
    (["--class-weight", "balanced"],
     "argument --class-weight: not allowed with argument --regression"),
    (["--label-smoothing", "0"],  # even the default value, when given
     "argument --label-smoothing: not allowed with argument --regression"),
    (["--fashion-mnist"],
     "argument --fashion-mnist: not allowed with argument --regression"),
    (["--data", "somewhere"], "argument --data: not allowed with argument --regression"),
])
def test_regression_refuses_classification_options(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(main_module, "fit_timed", lambda *a: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exc:
        main([*REGRESSION, *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_classification_options_unaffected_without_regression():
    args = main_module.parse_args(main_module.build_parser(), QUICK)
    assert args.label_smoothing == 0.0 and args.class_weight is None
    args = main_module.parse_args(main_module.build_parser(),
                                  [*QUICK, "--label-smoothing", "0.1"])
    assert args.label_smoothing == 0.1


def test_regression_refuses_a_safe_format_name_before_training(tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.setattr(main_module, "fit_timed", lambda *a: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exc:
        main([*REGRESSION, "--save", str(tmp_path / "model.npz")])
    assert exc.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "with --regression the model is a scikit-learn TransformedTargetRegressor" in err
    assert str(tmp_path / "model.skops") in err and str(tmp_path / "model.joblib") in err
    assert not (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("name", ["model.skops", "model.joblib"])
def test_regression_saved_file_loads_with_the_printed_loader(tmp_path, capsys, name):
    path = tmp_path / name
    assert main([*REGRESSION, "--save", str(path)]) == 0
    out = capsys.readouterr().out
    model = _loaded_with_printed_loader(out, path)
    X_test, y_test = main_module.load_diabetes_split()[2:]
    X_test = X_test.astype(np.float32)
    assert round(model.score(X_test, y_test), 4) == _r2(out)
    X_train, y_train = main_module.load_diabetes_split()[:2]
    refit = _diabetes_fitted(X_train.astype(np.float32), y_train)
    np.testing.assert_array_equal(model.predict(X_test), refit.predict(X_test))


def test_regression_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--regression", "--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.endswith(f" {sknumpy_mlp.__version__}\n")
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--regression train MLPScratchRegressor on scikit-learn's bundled diabetes" in (
        help_text)
