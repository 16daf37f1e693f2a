"""``python -m sknumpy_mlp --tabular``, run in-process through ``main``."""

import re

import joblib
import numpy as np
import pandas as pd
import pytest

from sknumpy_mlp import _cli_tabular
from sknumpy_mlp.__main__ import main
from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor
from sknumpy_mlp.tabular import _base as tabular_base

QUICK = ["--tabular", "--hidden", "16", "--n-epochs", "4", "--n-members", "1", "--quiet"]


@pytest.fixture
def csv(tmp_path):
    """A table with a categorical column, missing values and a text target."""
    rng = np.random.RandomState(0)
    n = 120
    x = rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], n)
    label = np.where(x + (color == "red") > 0.3, "yes", "no")
    x[::10] = np.nan
    frame = pd.DataFrame({"x": x, "color": color, "noise": rng.normal(size=n),
                          "label": label})
    frame.loc[3, "label"] = np.nan  # a row without target: dropped
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return path


def _error(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "Data:" not in captured.out  # refused before loading or training
    return " ".join(captured.err.split())


def test_bundled_breast_cancer(capsys):
    assert main(QUICK) == 0
    out = capsys.readouterr().out
    assert ("Data: scikit-learn breast cancer (bundled table): 426 train / 143 test "
            "rows, 30 columns (0 categorical, 0 with missing values), 2 classes") in out
    assert re.search(r"^Model: TabularMLPClassifier hidden_layer_sizes=16 ", out,
                     re.MULTILINE)
    assert re.search(r"^Fit time: \d+\.\d\d s \(1 member x 4 epochs; best epoch \d\)$",
                     out, re.MULTILINE)
    accuracy = float(re.search(r"^Test accuracy: (\d\.\d{4})$", out, re.M).group(1))
    assert accuracy > 0.85
    assert re.search(r"^Test ROC AUC: \d\.\d{4}$", out, re.MULTILINE)
    # The split is stratified: 212 and 357 rows, a quarter of each in the test set.
    assert re.search(r"^\s+0(\s+\d\.\d{4}){3}\s+53$", out, re.MULTILINE)
    assert re.search(r"^\s+1(\s+\d\.\d{4}){3}\s+90$", out, re.MULTILINE)


def test_options_change_only_what_they_name(capsys):
    main([*QUICK, "--dropout", "0", "--label-smoothing", "0.05", "--class-weight",
          "balanced", "--random-state", "3"])
    model = re.search(r"^Model: (.*)$", capsys.readouterr().out, re.MULTILINE).group(1)
    assert "dropout=0.0" in model and "label_smoothing=0.05" in model
    assert "class_weight=balanced" in model
    # Options not given keep the estimator's defaults, not the MLP mode's.
    assert f"learning_rate={TabularMLPClassifier().learning_rate}" in model
    assert f"activation={TabularMLPClassifier().activation}" in model


def test_verbose_lines_without_quiet(capsys):
    assert main(QUICK[:-1]) == 0  # captured, not a terminal: lines, not a bar
    out = capsys.readouterr().out
    assert re.findall(r"^Epoch (\d), loss = ", out, re.MULTILINE) == ["1", "2", "3", "4"]


def test_regression_on_diabetes(capsys):
    assert main([*QUICK, "--regression"]) == 0
    out = capsys.readouterr().out
    assert "scikit-learn diabetes (bundled table): 331 train / 111 test rows" in out
    assert "Model: TabularMLPRegressor" in out
    assert re.search(r"^Test R\^2: -?\d\.\d{4}$", out, re.MULTILINE)
    assert re.search(r"^Test RMSE: \d+\.\d{4} \(standard deviation", out, re.MULTILINE)


def test_csv_with_categories_and_missing_values(csv, capsys, tmp_path):
    path = tmp_path / "model.joblib"
    assert main([*QUICK, "--csv", str(csv), "--target", "label",
                 "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Note: dropped 1 row whose target 'label' is missing." in out
    assert (f"Data: {csv}: 89 train / 30 test rows, 3 columns (1 categorical, 1 with "
            "missing values), 2 classes") in out
    assert "Saved the model to" in out and "joblib.load" in out
    model = joblib.load(path)
    assert isinstance(model, TabularMLPClassifier)
    table = pd.read_csv(csv).drop(columns="label")
    assert set(model.predict(table)) <= {"yes", "no"}


def test_csv_regression(csv, capsys):
    assert main([*QUICK, "--regression", "--csv", str(csv), "--target", "noise"]) == 0
    out = capsys.readouterr().out
    assert "a continuous target" in out and "Test R^2:" in out


@pytest.mark.parametrize("argv, message", [
    (["--csv", "nowhere.csv", "--target", "y"], "'nowhere.csv' does not exist"),
    (["--csv", "{csv}"], "argument --csv: needs --target COLUMN"),
    (["--target", "label"], "argument --target: only with --csv"),
    (["--csv", "{csv}", "--target", "colour"],
     "has no column 'colour'; its columns are 'x', 'color', 'noise', 'label'"),
    (["--csv", "{csv}", "--target", "noise"],
     "the target 'noise' looks continuous (120 distinct values such as -0.91"),
    (["--regression", "--csv", "{csv}", "--target", "color"],
     "the target 'color' is not numeric"),
    (["--max-iter", "5"], "argument --max-iter: not allowed with argument --tabular "
                          "(use --n-epochs)"),
    (["--pca", "3"], "argument --pca: not allowed with argument --tabular"),
    (["--data", "somewhere"], "argument --data: not allowed with argument --tabular"),
    (["--n-epochs", "0"], "argument --n-epochs: expected 'auto' or a positive"),
])
def test_bad_input_is_refused_before_training(argv, message, csv, capsys):
    argv = [a.replace("{csv}", str(csv)) for a in argv]
    assert message in _error(capsys, ["--tabular", *argv])


def test_csv_and_target_need_tabular(csv, capsys):
    assert "argument --csv: only with --tabular" in _error(
        capsys, ["--csv", str(csv), "--target", "label"])


def test_one_class_target(tmp_path, capsys):
    path = tmp_path / "one.csv"
    pd.DataFrame({"x": range(10), "y": ["a"] * 10}).to_csv(path, index=False)
    assert "the target 'y' has one class only ('a')" in _error(
        capsys, ["--tabular", "--csv", str(path), "--target", "y"])


def test_unreadable_csv(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert f"cannot read {str(path)!r} as a CSV file" in _error(
        capsys, ["--tabular", "--csv", str(path), "--target", "y"])


@pytest.mark.parametrize("regression", [False, True])
def test_save_names_follow_what_loads(regression, tmp_path, capsys, monkeypatch):
    """The safe format and skops are offered exactly when they hold a tabular model."""
    pytest.importorskip("skops")
    flag = ["--regression"] if regression else []
    argv = ["--tabular", *flag, "--save", str(tmp_path / "m.skops")]
    if not _cli_tabular._format_holds_tabular("skops", regression):
        assert "skops cannot yet load a tabular model" in _error(capsys, argv)
    # Once a format holds tabular models, the command takes its names.
    monkeypatch.setattr(_cli_tabular, "_format_holds_tabular", lambda fmt, r: True)
    for name, fmt in [("m.npz", "npz"), ("m.skops", "skops"), ("m.pkl", "joblib")]:
        args, parser, check = _parsed([*argv[:-1], str(tmp_path / name)])
        assert _cli_tabular.save_format(args, parser, check) == fmt


@pytest.mark.parametrize("name", ["model.npz", "model.skops"])
def test_save_in_the_safe_formats(name, csv, capsys, tmp_path):
    if name.endswith(".skops"):
        pytest.importorskip("skops")
    assert _cli_tabular._format_holds_tabular(name.rsplit(".", 1)[1], False)
    path = tmp_path / name
    assert main([*QUICK, "--csv", str(csv), "--target", "label",
                 "--save", str(path)]) == 0
    assert "Saved the model to" in capsys.readouterr().out
    if name.endswith(".npz"):
        import sknumpy_mlp

        model = sknumpy_mlp.load(path)
    else:
        import skops.io

        from sknumpy_mlp._persistence import SKOPS_TRUSTED_TYPES

        model = skops.io.load(path, trusted=list(SKOPS_TRUSTED_TYPES))
    table = pd.read_csv(csv).drop(columns="label")
    assert set(model.predict(table)) <= {"yes", "no"}


def _parsed(argv):
    from sknumpy_mlp.__main__ import build_parser, parse_args, save_format

    parser = build_parser()
    return parse_args(parser, argv), parser, save_format


def test_the_estimator_is_the_one_described():
    args, parser, _ = _parsed([*QUICK, "--regression", "--dropout", "0.1"])
    given = _cli_tabular._given(parser, [*QUICK, "--regression", "--dropout", "0.1"])
    est = _cli_tabular.make_estimator(args, given)
    assert isinstance(est, TabularMLPRegressor)
    assert est.get_params()["dropout"] == 0.1 and est.hidden_layer_sizes == (16,)
    assert est.learning_rate == TabularMLPRegressor().learning_rate


def test_threads_default_to_every_core_and_follow_the_option(monkeypatch):
    # MLP mode defaults to one BLAS thread; --tabular to as many as BLAS may use,
    # one member on each (._threads).
    seen, real = [], tabular_base.available_threads
    monkeypatch.setattr(tabular_base, "available_threads",
                        lambda: seen.append(real()) or seen[-1])
    two = [*QUICK[:-2], "2", "--quiet"]  # two members
    everything = real()
    assert main(two) == 0
    assert main([*two, "--threads", "1"]) == 0
    assert seen == [everything, 1]
