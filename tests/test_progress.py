"""verbose: scikit-learn's lines at every truthy level (bars: tests/test_callbacks.py)."""

import re

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


@pytest.mark.parametrize("verbose", [2, 10])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_higher_verbose_prints_the_same_lines(data, capsys, solver, verbose):
    # As in scikit-learn (whose own tests use verbose=10): no bar, the same text.
    clf = MLPScratchClassifier((8,), solver=solver, max_iter=4, random_state=0,
                               verbose=verbose).fit(*data)
    out, err = capsys.readouterr()
    assert out.splitlines() == _iteration_lines(clf.loss_curve_)
    assert err == ""


def test_make_reporter_levels():
    assert type(make_reporter(False)) is SilentReporter
    assert type(make_reporter(0)) is SilentReporter
    for verbose in (True, 1, 2, 10):
        assert type(make_reporter(verbose)) is PrintReporter
