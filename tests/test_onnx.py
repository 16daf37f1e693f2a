"""The ONNX export agrees with predict_proba and predict when run in onnxruntime."""

import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import NotFittedError

from sknumpy_mlp import MLPScratchClassifier, to_onnx
from sknumpy_mlp._activations import ACTIVATIONS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _data(task, n=80):
    if task == "multilabel":
        X, y = make_multilabel_classification(n, 6, n_classes=4, random_state=0)
    else:
        n_classes = 2 if task in ("binary", "bools") else 3
        X, y = make_classification(n, 6, n_informative=4, n_classes=n_classes,
                                   random_state=0)
        y = {"strings": np.array(["ant", "bee", "cat"]),
             "objects": np.array(["x", "yy", "zzz"], dtype=object),
             "floats": np.array([-1.0, 0.0, 2.0]),
             "ints": np.array([3, 10, 42]),
             "bools": np.array([False, True])}.get(task, np.arange(3))[y]
    return X.astype(np.float32), y


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], {"X": X.astype(np.float32)})
    return label, proba


def _check(est, X, atol=1e-5, **kwargs):
    model = to_onnx(est, **kwargs)
    onnx.checker.check_model(model, full_check=True)
    label, proba = _run(model, X)
    expected = est.predict_proba(X)
    assert proba.dtype == np.float32 and proba.shape == expected.shape
    np.testing.assert_allclose(proba, expected, rtol=0, atol=atol)
    assert label.shape == est.predict(X).shape
    assert label.tolist() == est.predict(X).tolist()
    return model


def _fit(task, dtype=np.float32, **params):
    X, y = _data(task)
    params = {"hidden_layer_sizes": (7, 5), "max_iter": 20, "random_state": 0, **params}
    return MLPScratchClassifier(**params).fit(X.astype(dtype), y), X


@pytest.mark.parametrize("task", ["binary", "strings", "multilabel"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_matches_predict_proba(activation, task):
    est, X = _fit(task, activation=activation)
    _check(est, X)


@pytest.mark.parametrize("task", ["binary", "strings", "multilabel"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh"])
def test_batch_norm_is_folded(activation, task):
    est, X = _fit(task, activation=activation, batch_norm=True, dropout=0.2)
    model = _check(est, X)
    ops = {node.op_type for node in model.graph.node}
    assert "BatchNormalization" not in ops and "Dropout" not in ops


@pytest.mark.parametrize("task", ["ints", "floats", "bools", "objects", "strings"])
def test_label_types(task):
    est, X = _fit(task)
    model = _check(est, X)
    label = model.graph.output[0].type.tensor_type.elem_type
    expected = {"ints": onnx.TensorProto.INT64, "floats": onnx.TensorProto.DOUBLE,
                "bools": onnx.TensorProto.BOOL, "objects": onnx.TensorProto.STRING,
                "strings": onnx.TensorProto.STRING}[task]
    assert label == expected


def test_multilabel_label_is_an_int64_indicator():
    est, X = _fit("multilabel")
    label, _ = _run(_check(est, X), X)
    assert label.dtype == np.int64 and label.shape == (X.shape[0], 4)


def test_float64_model_is_exported_in_float32():
    est, X = _fit("strings", dtype=np.float64, activation="gelu", batch_norm=True)
    model = _check(est, X)
    weights = [t for t in model.graph.initializer if t.name.startswith("coef")]
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in weights)


def test_graph_uses_standard_ops_only():
    est, X = _fit("strings", activation="gelu")
    model = _check(est, X, opset=13)
    ops = [node.op_type for node in model.graph.node]
    assert "Erf" in ops and "Gelu" not in ops
    assert ops.count("MatMul") == 3 and ops[-1] == "Gather"
    assert model.opset_import[0].version == 13
    assert [i.name for i in model.graph.input] == ["X"]
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]


def test_single_sample_and_no_hidden_layer():
    est, X = _fit("binary", hidden_layer_sizes=())
    _check(est, X[:1])


@pytest.mark.parametrize("opset", [12, 10**3, 13.0, "17"])
def test_bad_opset(opset):
    est, _ = _fit("binary")
    with pytest.raises(ValueError, match="opset must be an int"):
        to_onnx(est, opset=opset)


def test_unfitted_and_foreign_estimators():
    with pytest.raises(NotFittedError):
        to_onnx(MLPScratchClassifier())
    with pytest.raises(TypeError, match="MLPScratchClassifier or an MLPScratchRegressor"):
        to_onnx(object())


def test_clear_error_without_onnx(monkeypatch):
    est, _ = _fit("binary")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install sknumpy_mlp\[onnx\]"):
        to_onnx(est)


# --------------------------------------------------------------------- regressor
def _fit_regressor(n_outputs=1, **params):
    from sklearn.datasets import make_regression

    from sknumpy_mlp import MLPScratchRegressor

    X, y = make_regression(80, 6, n_targets=n_outputs, noise=0.1, random_state=0)
    y = y / np.abs(y).max()
    if params.get("loss") == "poisson":
        y = np.exp(y)
    params = {"hidden_layer_sizes": (7, 5), "max_iter": 20, "random_state": 0, **params}
    return MLPScratchRegressor(**params).fit(X.astype(np.float32), y), X.astype(np.float32)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("params", [
    {}, {"loss": "poisson"}, {"activation": "gelu", "batch_norm": True},
    {"activation": "tanh", "dropout": 0.1, "solver": "rmsprop"},
], ids=["identity", "poisson", "gelu-bn", "tanh-dropout"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regressor_matches_predict(params, n_outputs):
    est, X = _fit_regressor(n_outputs, **params)
    model = to_onnx(est)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["variable"]
    (values,) = session.run(["variable"], {"X": X})
    expected = est.predict(X)
    assert values.dtype == np.float32 and values.shape == expected.shape
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-5)
    assert model.graph.name == "MLPScratchRegressor"
