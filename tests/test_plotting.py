"""LossCurveDisplay: the lines hold the estimator's curves, axes can be reused."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sknumpy_mlp import MLPScratchClassifier
from sknumpy_mlp.plotting import LossCurveDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16, y[:500]


@pytest.fixture(scope="module")
def clf(data):
    return MLPScratchClassifier((16,), max_iter=8, random_state=0).fit(*data)


@pytest.fixture(scope="module")
def clf_es(data):
    return MLPScratchClassifier((16,), max_iter=40, early_stopping=True,
                                n_iter_no_change=3, random_state=0).fit(*data)


def test_from_estimator_without_early_stopping(clf):
    display = LossCurveDisplay.from_estimator(clf)
    epochs = np.arange(1, clf.n_iter_ + 1)
    np.testing.assert_array_equal(display.line_.get_xdata(), epochs)
    np.testing.assert_array_equal(display.line_.get_ydata(), clf.loss_curve_)
    assert display.validation_loss_line_ is None
    assert display.validation_score_line_ is None
    assert display.best_epoch_line_ is None
    assert display.score_ax_ is None
    assert display.figure_ is display.ax_.figure
    assert len(display.figure_.axes) == 1
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Loss"
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == [
        "training loss"]


def test_from_estimator_with_early_stopping(clf_es):
    display = LossCurveDisplay.from_estimator(clf_es)
    n = len(clf_es.loss_curve_)
    epochs = np.arange(1, n + 1)
    np.testing.assert_array_equal(display.line_.get_ydata(), clf_es.loss_curve_)
    np.testing.assert_array_equal(display.validation_loss_line_.get_xdata(), epochs)
    np.testing.assert_array_equal(display.validation_loss_line_.get_ydata(),
                                  clf_es.validation_loss_curve_)
    np.testing.assert_array_equal(display.validation_score_line_.get_ydata(),
                                  clf_es.validation_scores_)
    # Scores on a twin axes sharing the epochs, losses on the main one.
    assert display.validation_score_line_.axes is display.score_ax_
    assert display.validation_loss_line_.axes is display.ax_
    assert display.score_ax_.get_shared_x_axes().joined(display.score_ax_, display.ax_)
    assert display.score_ax_.get_ylabel() == "Validation score"
    # The best epoch is the one whose weights were kept.
    best = display.best_epoch
    assert clf_es.validation_scores_[best - 1] == clf_es.best_validation_score_
    assert best < n  # stopped after n_iter_no_change epochs without improvement
    np.testing.assert_array_equal(display.best_epoch_line_.get_xdata(), [best, best])
    labels = [t.get_text() for t in display.score_ax_.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", f"best epoch ({best})",
                      "validation score"]


def test_ax_reuse(clf, clf_es):
    fig, ax = plt.subplots()
    first = LossCurveDisplay.from_estimator(clf_es, ax=ax, name="A")
    second = LossCurveDisplay.from_estimator(clf_es, ax, name="B")
    third = LossCurveDisplay.from_estimator(clf, ax=ax, name="C")
    assert first.ax_ is second.ax_ is third.ax_ is ax
    assert first.figure_ is fig
    assert first.score_ax_ is second.score_ax_  # one right-hand scale, not two
    assert len(fig.axes) == 2
    assert second.line_.get_color() != first.line_.get_color()
    assert second.validation_loss_line_.get_color() == second.line_.get_color()
    labels = [t.get_text() for t in first.score_ax_.get_legend().get_texts()]
    assert {"A: training loss", "B: validation score", "C: training loss"} <= {*labels}


def test_constructor_and_plot_kwargs():
    display = LossCurveDisplay([3.0, 2.0, 1.5], validation_scores=[0.5, 0.7, 0.6],
                               best_epoch=2, estimator_name="net")
    assert display.plot(line_kw={"c": "red", "lw": 3},
                        best_epoch_kw={"color": "k"}) is display
    assert display.line_.get_color() == "red"
    assert display.line_.get_linewidth() == 3
    assert display.validation_score_line_.get_color() == "red"
    assert display.best_epoch_line_.get_color() == "k"
    assert display.validation_loss_line_ is None
    assert display.ax_.get_legend() is None  # moved to the score axes, on top
    legend = display.score_ax_.get_legend()
    assert legend.get_texts()[0].get_text() == "net: training loss"


def test_pipeline_and_lbfgs(data):
    pipe = make_pipeline(MinMaxScaler(), MLPScratchClassifier(
        (8,), solver="lbfgs", max_iter=15, random_state=0)).fit(*data)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(display.line_.get_ydata(), pipe[-1].loss_curve_)
    assert display.ax_.get_xlabel() == "L-BFGS iteration"


def test_scikit_learn_mlp(data):
    sk = MLPClassifier((8,), max_iter=10, early_stopping=True, random_state=0)
    display = LossCurveDisplay.from_estimator(sk.fit(*data))
    np.testing.assert_array_equal(display.validation_score_line_.get_ydata(),
                                  sk.validation_scores_)
    assert display.validation_loss_line_ is None  # scikit-learn does not record it
    with pytest.raises(ValueError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(
            MLPClassifier((8,), solver="lbfgs", max_iter=5).fit(*data))


def test_not_fitted():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(MLPScratchClassifier())


def test_import_error_without_matplotlib(monkeypatch, clf):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"from_estimator requires matplotlib.*"
                                          r"sknumpy_mlp\[plot\]"):
        LossCurveDisplay.from_estimator(clf)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay([1.0, 0.5]).plot()


@pytest.fixture(scope="module")
def table():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:200, :6].copy()
    X["size"] = np.where(X["mean radius"] > 14, "large", "small")
    X.loc[X.index[::9], "mean area"] = np.nan
    return X, y[:200]


def _legend(display):
    return [t.get_text() for t in (display.score_ax_ or display.ax_).get_legend()
            .get_texts()]


def test_tabular_classifier_ensemble(table):
    from sknumpy_mlp.tabular import TabularMLPClassifier

    clf = TabularMLPClassifier(hidden_layer_sizes=(16,), n_epochs=6, n_members=2,
                               random_state=0).fit(*table)
    display = LossCurveDisplay.from_estimator(clf)
    np.testing.assert_array_equal(display.line_.get_ydata(), clf.loss_curve_)
    # The default score is the negative validation log-loss: drawn as the log-loss.
    np.testing.assert_allclose(display.validation_loss_line_.get_ydata(),
                               -np.asarray(clf.validation_scores_))
    assert display.validation_score_line_ is None and display.score_ax_ is None
    assert display.best_epoch == [b + 1 for b in clf.best_epochs_]
    best = ", ".join(str(b + 1) for b in clf.best_epochs_)
    assert _legend(display) == ["training loss (mean of 2 members)",
                                "validation log-loss (mean of 2 members)",
                                f"best epochs ({best})"]
    vlines = [line for line in display.ax_.lines if line.get_linestyle() == "-."]
    assert len(vlines) == len(set(clf.best_epochs_))


def test_tabular_accuracy_metric_and_no_validation(table):
    from sknumpy_mlp.tabular import TabularMLPClassifier

    small = dict(hidden_layer_sizes=(8,), n_epochs=3, n_members=1, random_state=0)
    clf = TabularMLPClassifier(validation_metric="accuracy", **small).fit(*table)
    display = LossCurveDisplay.from_estimator(clf, name="net")
    np.testing.assert_array_equal(display.validation_score_line_.get_ydata(),
                                  clf.validation_scores_)
    assert display.best_epoch == clf.best_epochs_[0] + 1
    assert _legend(display) == ["net: training loss",
                                f"net: best epoch ({display.best_epoch})",
                                "net: validation accuracy"]
    bare = TabularMLPClassifier(validation_fraction=0, **small).fit(*table)
    display = LossCurveDisplay.from_estimator(bare)
    assert display.best_epoch_line_ is None and display.validation_loss_line_ is None
    assert _legend(display) == ["training loss"]


def test_tabular_regressor():
    from sklearn.datasets import load_diabetes

    from sknumpy_mlp.tabular import TabularMLPRegressor

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = TabularMLPRegressor(hidden_layer_sizes=(8,), n_epochs=3, n_members=1,
                              random_state=0).fit(X[:150], y[:150])
    display = LossCurveDisplay.from_estimator(reg)
    np.testing.assert_array_equal(display.validation_score_line_.get_ydata(),
                                  reg.validation_scores_)
    assert "validation 1 - MSE (standardized y)" in _legend(display)
