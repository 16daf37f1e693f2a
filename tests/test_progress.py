"""verbose: scikit-learn's lines at 1, a tqdm bar at 2, plain lines without tqdm."""

import io
import re
import sys

import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp._progress import PrintReporter, SilentReporter, make_reporter


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _iteration_lines(loss_curve):
    return [f"Iteration {i}, loss = {loss:.8f}" for i, loss in enumerate(loss_curve, 1)]


def _mask_numbers(text):
    return re.sub(r"\d+(\.\d+)?", "#", text)


def test_verbose_1_prints_scikit_learn_lines(data, capsys):
    params = dict(hidden_layer_sizes=(8,), solver="sgd", max_iter=4, random_state=0,
                  verbose=1)
    clf = MLPScratchClassifier(**params).fit(*data)
    ours = capsys.readouterr().out
    assert ours.splitlines() == _iteration_lines(clf.loss_curve_)
    MLPClassifier(**params).fit(*data)
    assert ours == capsys.readouterr().out  # same training, same text


def test_verbose_1_early_stopping_and_stop_message(data, capsys):
    params = dict(hidden_layer_sizes=(8,), early_stopping=True, max_iter=30,
                  n_iter_no_change=2, tol=0.05, random_state=0, verbose=True)
    clf = MLPScratchClassifier(**params).fit(*data)
    ours = capsys.readouterr().out
    lines = ours.splitlines()
    assert lines[0] == f"Iteration 1, loss = {clf.loss_curve_[0]:.8f}"
    assert lines[1] == f"Validation score: {clf.validation_scores_[0]:f}"
    assert lines[-1] == ("Validation score did not improve more than tol=0.050000 for "
                         "2 consecutive epochs. Stopping.")
    # The split differs (we stratify multiclass targets), the text does not.
    MLPClassifier(**params).fit(*data)
    assert _mask_numbers(ours) == _mask_numbers(capsys.readouterr().out)


def test_verbose_1_lbfgs(data, capsys):
    clf = MLPScratchClassifier((8,), solver="lbfgs", max_iter=5, random_state=0,
                               verbose=1).fit(*data)
    assert capsys.readouterr().out.splitlines() == _iteration_lines(clf.loss_curve_)


def test_verbose_0_is_silent(data, capsys):
    MLPScratchClassifier((8,), max_iter=3, random_state=0).fit(*data)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_verbose_2_shows_a_tqdm_bar(data, capsys, solver):
    pytest.importorskip("tqdm")
    clf = MLPScratchClassifier((8,), solver=solver, max_iter=6, random_state=0,
                               verbose=2).fit(*data)
    out, err = capsys.readouterr()
    assert "Iteration" not in out
    desc = "Training" if solver == "adam" else "L-BFGS"
    # The bar's last state: all epochs done, with the last loss.
    last = err.strip().split("\r")[-1]
    assert last.startswith(f"{desc}: 100%")
    assert "6/6 [" in last
    assert f"loss={clf.loss_curve_[-1]:.4g}" in last
    assert clf.score(*data) > 0.1


def test_verbose_2_early_stopping_message_and_score(data, capsys):
    pytest.importorskip("tqdm")
    clf = MLPScratchClassifier((8,), early_stopping=True, max_iter=30,
                               n_iter_no_change=2, tol=0.05, random_state=0,
                               verbose=2).fit(*data)
    out, err = capsys.readouterr()
    assert "Stopping." in out  # through tqdm.write, above the bar
    last = err.strip().split("\r")[-1]
    assert f"{clf.n_iter_}/30" in last
    assert f"val_score={clf.validation_scores_[-1]:.4f}" in last


def test_tqdm_reporter_batch_updates_are_few():
    pytest.importorskip("tqdm")
    from sknumpy_mlp._tqdm import TqdmReporter

    reporter = TqdmReporter(2, file=io.StringIO(), mininterval=0)
    bar = reporter._get_bar("epoch")
    calls = []
    bar.set_postfix_str = lambda s, refresh=True: calls.append(s)
    for k in range(1, 1001):
        reporter.batch_end(k, 1000, 1.0)
    assert 1 <= len(calls) <= 10
    assert calls[-1] == "batch 900/1000, loss=1"
    reporter.close()


def test_without_tqdm_falls_back_to_plain_lines(data, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # "import tqdm" now fails
    monkeypatch.delitem(sys.modules, "sknumpy_mlp._tqdm", raising=False)
    assert type(make_reporter(2, 10)) is PrintReporter
    clf = MLPScratchClassifier((8,), max_iter=2, random_state=0, verbose=2).fit(*data)
    assert capsys.readouterr().out.splitlines() == _iteration_lines(clf.loss_curve_)


def test_make_reporter_levels():
    assert type(make_reporter(False, 10)) is SilentReporter
    assert type(make_reporter(0, 10)) is SilentReporter
    assert type(make_reporter(True, 10)) is PrintReporter
    assert type(make_reporter(1, 10)) is PrintReporter
