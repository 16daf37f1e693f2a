"""The tabular estimators in the safe format and in skops: exact round trips, refusals."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sknumpy_mlp import load, save
from sknumpy_mlp._persistence import SKOPS_TRUSTED_TYPES, ModelFileError
from sknumpy_mlp.tabular import TabularMLPClassifier, TabularMLPRegressor

INVALID = "not a valid sknumpy_mlp model file"
SMALL = dict(hidden_layer_sizes=(8,), n_epochs=2, n_members=2, random_state=0)


def _table(n=60, seed=0, columns=("num", "few", "many", "text")):
    rng = np.random.RandomState(seed)
    x = rng.normal(size=n)
    x[::7] = np.nan
    data = {
        "num": x,
        "count": rng.randint(0, 5, n).astype(float),
        "few": pd.Categorical(rng.choice(["a", "b", None], n)),
        "many": [f"c{i % 13}" if i % 11 else None for i in range(n)],
        "text": pd.Series(rng.choice(["u", "v", "1"], n), dtype=object),
    }
    return pd.DataFrame({c: data[c] for c in columns})


def _unseen(X):
    """Categories and missing values that ``fit`` never saw."""
    X = X.copy()
    for column in X.columns:
        if X[column].dtype == object or isinstance(X[column].dtype, pd.CategoricalDtype):
            X[column] = X[column].astype(object)
            X.loc[X.index[0], column] = "never seen"
            X.loc[X.index[1], column] = None
        else:
            X.loc[X.index[2], column] = np.nan
    return X


def _roundtrip(est):
    buffer = io.BytesIO()
    save(est, buffer)
    buffer.seek(0)
    return load(buffer), buffer.getvalue()


def _assert_same(a, b, X):
    assert type(b) is type(a)
    params_a, params_b = a.get_params(), b.get_params()
    rng_a, rng_b = params_a.pop("random_state"), params_b.pop("random_state")
    assert params_b == params_a
    if isinstance(rng_a, np.random.RandomState):  # compared by identity otherwise
        np.testing.assert_equal(rng_b.get_state(), rng_a.get_state())
    else:
        assert rng_b == rng_a
    for table in (X, _unseen(X) if hasattr(X, "columns") else X):
        if hasattr(a, "predict_proba"):
            assert np.array_equal(b.predict_proba(table), a.predict_proba(table))
        assert np.array_equal(b.predict(table), a.predict(table))
    for name in ("n_features_in_", "n_outputs_", "n_members_", "n_iter_", "loss_",
                 "loss_curve_", "validation_scores_", "best_epochs_", "classes_",
                 "feature_names_in_", "_y_center", "_y_scale", "_y_min", "_y_max",
                 "_y_1d"):
        assert hasattr(b, name) == hasattr(a, name), name
        if hasattr(a, name):
            np.testing.assert_equal(getattr(b, name), getattr(a, name))
    pa, pb = a.preprocessor_, b.preprocessor_
    assert repr(pb.column_transformer_) == repr(pa.column_transformer_)
    np.testing.assert_equal(pb.feature_kinds_, pa.feature_kinds_)
    np.testing.assert_equal(pb.code_cardinalities_, pa.code_cardinalities_)
    np.testing.assert_equal(pb.code_columns_, pa.code_columns_)


@pytest.mark.parametrize("labels", ["binary", "multiclass", "strings"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_classifier_roundtrip_is_exact(labels, dtype):
    X = _table()
    y = {"binary": np.arange(60) % 2, "multiclass": np.arange(60) % 3,
         "strings": np.array(["no", "yes", "maybe"])[np.arange(60) % 3]}[labels]
    est = TabularMLPClassifier(**SMALL, dtype=dtype).fit(X, y)
    loaded, _ = _roundtrip(est)
    _assert_same(est, loaded, X)


@pytest.mark.parametrize("columns", [("num", "count"), ("few", "many", "text"),
                                     ("many",), ("num", "many")])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_regressor_roundtrip_is_exact(columns, n_targets):
    X = _table(columns=columns)
    y = np.random.RandomState(1).normal(size=(60, n_targets))
    est = TabularMLPRegressor(**SMALL, dtype="float64").fit(
        X, y[:, 0] if n_targets == 1 else y)
    loaded, _ = _roundtrip(est)
    _assert_same(est, loaded, X)


@pytest.mark.parametrize("kind", ["numeric", "strings"])
def test_plain_arrays(kind):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3))
    if kind == "strings":
        X = np.array(["a", "b", "c"], dtype=object)[rng.randint(0, 3, (50, 2))]
    est = TabularMLPClassifier(**{**SMALL, "random_state": np.random.RandomState(4)},
                               max_one_hot_levels=2, validation_fraction=0).fit(
        X, np.arange(50) % 2)
    loaded, _ = _roundtrip(est)
    _assert_same(est, loaded, X)


def test_options_roundtrip():
    """No scaling of one-hot columns, no clipping parameters beyond defaults, weights."""
    X = _table()
    est = TabularMLPClassifier(
        **{**SMALL, "hidden_layer_sizes": (6, 5)}, numeric_embedding=False,
        front_scale=True, parametric_activation=False, dropout=0.0,
        class_weight={0: 2.0, 1: 1.0}, max_one_hot_levels=None).fit(X, np.arange(60) % 2)
    loaded, _ = _roundtrip(est)
    _assert_same(est, loaded, X)


# ----------------------------------------------------------------- refused files
@pytest.fixture(scope="module")
def valid():
    X = _table()
    est = TabularMLPClassifier(**SMALL, front_scale=True).fit(X, np.arange(60) % 3)
    return _roundtrip(est)[1]  # layers: embedding, periodic, scale, dense, activation, ...


def _members(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _repack(data, edit=None, **arrays):
    members = _members(data)
    meta = json.loads(members["metadata"].tobytes())
    if edit is not None:
        edit(meta)
    members["metadata"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    members.update(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def _refused(data, match):
    with pytest.raises(ModelFileError, match=match) as info:
        load(io.BytesIO(data))
    assert INVALID in str(info.value)


def _set(*path, value=None, delete=False):
    def edit(meta):
        node = meta
        for key in path[:-1]:
            node = node[key]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return edit


def _layer(k=0, i=0):
    return ("networks", k, "layers", i)


@pytest.mark.parametrize("edit, match", [
    (_set("preprocessor", delete=True), r"missing keys \['preprocessor'\]"),
    (_set("estimator", value="TabularMLP"), "unknown estimator"),
    (_set("params", "dropout", value=2.0), "invalid hyperparameters.*dropout"),
    (_set(*_layer(), "layer", value="os.system"), "unknown layer 'os.system'"),
    (_set(*_layer(), "layer", value=["dense"]), "unknown layer"),
    (_set(*_layer(), "surprise", value=1), r"unknown keys \['surprise'\]"),
    (_set(*_layer(), "dim", delete=True), r"missing keys \['dim'\]"),
    (_set(*_layer(), "n_in", value="5"), "does not keep its values"),
    (_set(*_layer(), "n_in", value=5.0), "does not keep its values"),
    (_set(*_layer(), "n_in", value=-1), "invalid values"),
    (_set(*_layer(), "n_in", value=2**40), "invalid values"),
    (_set(*_layer(), "cardinalities", value=[0]), "cardinalities"),
    (_set(*_layer(), "n_in", value=4), "takes 4 inputs"),
    (_set(*_layer(0, 3), "n_out", value=100000), "takes|outputs"),
    (_set(*_layer(0, 4), "activation", value="nope"), "activation"),
    (_set(*_layer(0, 4), "n", value=2**31 - 1), "takes"),
    (_set("networks", 0, "dtype", value="float16"), "float32 or float64"),
    (_set("networks", 1, delete=True), "2 member networks"),
    (_set("fitted", "n_members_", value=3), "3 member networks|do not agree"),
    (_set("fitted", "best_epochs_", value=[0, 7]), "do not agree"),
    (_set("fitted", "n_features_in_", value=3), "preprocessor has 4 columns"),
    (_set("fitted", "feature_names_in_", value=["a", "b", "c", "d"]), "differ"),
    (_set("target", "classes", "values", value=[0, 1]), "classes do not fit"),
    (_set("preprocessor", "names", value=["a"]), "names must be null or 4"),
    (_set("preprocessor", "columns", 0, "kind", value="pickle"), "unknown kind"),
    (_set("preprocessor", "columns", 0, "center", value=float("nan")), "finite"),
    (_set("preprocessor", "columns", 0, "scale", value=-1.0), "non-negative"),
    (_set("preprocessor", "columns", 1, "levels", value=["b", "a"]), "sorted, unique"),
    (_set("preprocessor", "columns", 1, "levels", value=[1, 2]), "text levels"),
    (_set("preprocessor", "columns", 1, "center", value=[0.0, 0.0]), "needs 1 finite"),
    (_set("preprocessor", "columns", 3, "center", value=[0.0]), "needs 3 finite"),
    (_set("preprocessor", "columns", 1, "levels", value=list("abc")),
     "not a binary column"),
    (_set("preprocessor", "columns", 3, "kind", value="binary"), "not a binary column"),
    (_set("preprocessor", "columns", 1, "kind", value="one-hot"),
     "not a one-hot column.*binary_encoding='signed'"),
    (_set("preprocessor", "columns", 2, "levels", value=["x"]), "not a code column"),
    (_set("preprocessor", "columns", 2, "missing", value=1), "true or false"),
    (_set("preprocessor", "params", "clip", value=-3.0), "invalid hyperparameters"),
    (_set("params", "binary_encoding", value="one-hot"), "is not the estimator's"),
    (_set("preprocessor", "params", "dtype", value="float64"), "is not the estimator's"),
])
def test_tampered_metadata_is_refused(valid, edit, match):
    _refused(_repack(valid, edit), match)


def test_files_from_before_binary_encoding_load_as_one_hot():
    """Files written before the parameter existed encoded two levels as one-hot."""
    X = _table()
    est = TabularMLPClassifier(**SMALL, binary_encoding="one-hot").fit(X, np.arange(60) % 2)
    _, data = _roundtrip(est)

    def old(meta):
        del meta["params"]["binary_encoding"]
        del meta["preprocessor"]["params"]["binary_encoding"]

    loaded = load(io.BytesIO(_repack(data, old)))
    _assert_same(est, loaded, X)
    assert loaded.preprocessor_.feature_kinds_.tolist() == [
        "numeric", "one-hot", "code", "one-hot"]


@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
def test_pickles_from_before_binary_encoding_keep_working(cls):
    import pickle

    X = _table()
    est = cls(**SMALL, binary_encoding="one-hot").fit(X, np.arange(60) % 2)
    for obj in (est, est.preprocessor_):  # what a pickle of the older class held
        del obj.__dict__["binary_encoding"]
    loaded = pickle.loads(pickle.dumps(est))
    assert loaded.binary_encoding == loaded.preprocessor_.binary_encoding == "one-hot"
    est.binary_encoding = est.preprocessor_.binary_encoding = "one-hot"
    _assert_same(est, loaded, X)
    assert "binary_encoding='one-hot'" in repr(clone(loaded))
    clone(loaded).fit(X, np.arange(60) % 2)


def test_tampered_arrays_are_refused(valid):
    params = _members(valid)["params"]
    _refused(_repack(valid, params=params[:-1]), "networks need")
    _refused(_repack(valid, params=np.concatenate([params, params])), "networks need")
    bad = params.copy()
    bad[3] = np.inf
    _refused(_repack(valid, params=bad), "non-finite")
    _refused(_repack(valid, state=np.zeros(2, params.dtype)), "networks need")


def test_a_huge_declared_network_is_refused_before_allocating(valid):
    def edit(meta):  # consistent widths, but 2**60 weights that the file does not hold
        layers = meta["networks"][0]["layers"]
        dense = next(la for la in layers if la["layer"] == "data_dense")
        dense["n_out"] = 2**30
    _refused(_repack(valid, edit), "takes|outputs|declares")


def test_save_refuses_foreign_layers():
    est = TabularMLPClassifier(**SMALL).fit(_table(), np.arange(60) % 2)
    est._networks[0].layers[0].name = "dense"  # claims to be another registered class
    with pytest.raises(TypeError, match="not the one registered"):
        save(est, io.BytesIO())


# ------------------------------------------------------------------------ skops
@pytest.mark.parametrize("cls", [TabularMLPClassifier, TabularMLPRegressor])
def test_skops_roundtrip(cls, tmp_path):
    sio = pytest.importorskip("skops.io")
    X = _table()
    est = cls(**SMALL).fit(X, np.arange(60) % 2)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(SKOPS_TRUSTED_TYPES)
    loaded = sio.load(path, trusted=list(SKOPS_TRUSTED_TYPES))
    _assert_same(est, loaded, X)
