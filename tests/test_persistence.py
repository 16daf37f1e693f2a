"""Safe save/load round-trips bit for bit and refuses every file it does not expect."""

import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sknumpy_mlp import MLPScratchClassifier, load, save
from sknumpy_mlp._persistence import _FITTED, SKOPS_TRUSTED_TYPES, ModelFileError

INVALID = "not a valid sknumpy_mlp model file"


def _data(task, dtype=np.float64, n=90):
    if task == "multilabel":
        X, y = make_multilabel_classification(n, 5, n_classes=3, random_state=0)
    else:
        n_classes = 2 if task in ("binary", "objects", "bools") else 3
        X, y = make_classification(n, 5, n_informative=3, n_classes=n_classes,
                                   random_state=0)
        if task == "strings":
            y = np.array(["cat", "dog", "emu"])[y]
        elif task == "objects":
            y = np.array(["no", "yes"], dtype=object)[y]
        elif task == "bools":
            y = y.astype(bool)
    return X.astype(dtype), y


CASES = {
    "binary-float64": ("binary", np.float64, dict(solver="sgd", early_stopping=True)),
    "strings-float32": ("strings", np.float32, dict(hidden_layer_sizes=[7, 4])),
    "multilabel": ("multilabel", np.float64, dict(solver="lbfgs")),
    "bn-dropout-gelu": ("strings", np.float32, dict(
        activation="gelu", batch_norm=True, dropout=np.array([0.2, 0.1]),
        hidden_layer_sizes=(6, 5), solver="adamw", learning_rate="cosine")),
    "objects-classweight": ("objects", np.float64, dict(
        class_weight={"no": 2.0, "yes": 1.0}, n_iter_no_change=np.inf,
        random_state=np.random.RandomState(3), solver="rmsprop")),
    "bools-elu": ("bools", np.float32, dict(activation="elu", batch_norm=True,
                                            solver="lbfgs")),
}


def _fit(case):
    task, dtype, params = CASES[case]
    X, y = _data(task, dtype)
    params = {"hidden_layer_sizes": (6,), "max_iter": 15, "random_state": 0, **params}
    return MLPScratchClassifier(**params).fit(X, y), X, y


def _roundtrip(est):
    buffer = io.BytesIO()
    save(est, buffer)
    return load(io.BytesIO(buffer.getvalue()))


def _assert_same_model(a, b, X):
    assert type(b) is MLPScratchClassifier
    np.testing.assert_array_equal(b.predict_proba(X), a.predict_proba(X), strict=True)
    np.testing.assert_array_equal(b.predict(X), a.predict(X), strict=True)
    np.testing.assert_array_equal(b.classes_, a.classes_, strict=True)
    params_a, params_b = a.get_params(), b.get_params()
    rng_a, rng_b = params_a.pop("random_state"), params_b.pop("random_state")
    if isinstance(rng_a, np.random.RandomState):
        np.testing.assert_equal(rng_b.get_state(), rng_a.get_state())
    else:
        assert rng_b == rng_a
    for name, value in params_a.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(params_b[name], value, strict=True)
        else:
            assert params_b[name] == value and type(params_b[name]) is type(value)
    for name in _FITTED:
        assert hasattr(b, name) == hasattr(a, name), name
        if hasattr(a, name):
            np.testing.assert_equal(getattr(b, name), getattr(a, name))
    assert b._history == a._history
    assert b._network.params.dtype == a._network.params.dtype
    # coefs_ are views into the loaded network's buffer, as after fit.
    assert all(np.shares_memory(c, b._network.params) for c in b.coefs_ + b.intercepts_)


@pytest.mark.parametrize("case", CASES)
def test_roundtrip_is_bit_identical(case, tmp_path):
    est, X, _ = _fit(case)
    path = tmp_path / "model.skmlp"
    save(est, path)
    assert path.exists() and not (tmp_path / "model.skmlp.npz").exists()
    _assert_same_model(est, load(path), X)
    _assert_same_model(est, load(str(path)), X)


def test_network_settings_outlive_set_params():
    """Hyperparameters changed after fit do not change the saved network."""
    est, X, _ = _fit("strings-float32")
    est.set_params(activation="tanh", batch_norm=True, hidden_layer_sizes=(3,))
    loaded = _roundtrip(est)
    _assert_same_model(est, loaded, X)
    assert loaded.activation == "tanh" and loaded._network.activation_name == "relu"


def test_sparse_multilabel_target():
    sparse = pytest.importorskip("scipy.sparse")
    X, Y = _data("multilabel")
    est = MLPScratchClassifier((5,), max_iter=5, random_state=0)
    est.fit(X, sparse.csr_matrix(Y))
    loaded = _roundtrip(est)
    assert sparse.issparse(loaded.predict(X))
    assert (loaded.predict(X) != est.predict(X)).nnz == 0


def test_metadata_is_readable_json(tmp_path):
    est, _, _ = _fit("strings-float32")
    save(est, tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        meta = json.loads(npz["metadata"].tobytes())
        assert sorted(npz.files) == ["metadata", "params", "state"]
    assert meta["format"] == "sknumpy_mlp" and meta["format_version"] == 1
    assert meta["network"]["layer_units"] == [5, 7, 4, 3]
    classes = {"dtype": "<U3", "values": ["cat", "dog", "emu"]}
    assert meta["target"]["classes"] == classes


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data("binary")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = MLPScratchClassifier((5,), max_iter=10, random_state=0).fit(df, y)
    loaded = _roundtrip(est)
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_,
                                  strict=True)
    _assert_same_model(est, loaded, df)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(df.rename(columns={"f0": "other"}))


@pytest.mark.parametrize("dump, load_", [
    (pickle.dumps, pickle.loads),
    (lambda est: _joblib_bytes(est), lambda data: joblib.load(io.BytesIO(data))),
])
def test_pickle_and_joblib_roundtrips(dump, load_):
    est, X, _ = _fit("bn-dropout-gelu")
    _assert_same_model(est, load_(dump(est)), X)
    _assert_same_model(est, load_(dump(_roundtrip(est))), X)


def _joblib_bytes(est):
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("case", ["strings-float32", "bn-dropout-gelu", "multilabel"])
def test_loaded_model_continues_training(case):
    est, X, y = _fit(case)
    if est.solver == "lbfgs":
        est.set_params(solver="adam")
    loaded = _roundtrip(est)
    # The file has no optimizer state: the loaded model continues like the original
    # would with a fresh optimizer and schedule.
    reference = pickle.loads(pickle.dumps(est))
    for name in ("_optimizer", "_learning_rate"):
        reference.__dict__.pop(name, None)
    for model in (reference, loaded):
        model.partial_fit(X, y)
        model.partial_fit(X[:20], y[:20])
    np.testing.assert_array_equal(loaded._network.params, reference._network.params)
    assert loaded.loss_curve_ == reference.loss_curve_
    assert loaded.t_ == est.t_ + X.shape[0] + 20
    loaded.set_params(warm_start=True, max_iter=3).fit(X, y)
    assert loaded.n_iter_ == 3


def test_save_refuses_unfitted_and_foreign_estimators():
    with pytest.raises(NotFittedError):
        save(MLPScratchClassifier(), io.BytesIO())
    with pytest.raises(TypeError, match="MLPScratchClassifier"):
        save(object(), io.BytesIO())


# ----------------------------------------------------------------- refused files
@pytest.fixture(scope="module")
def valid():
    est, X, _ = _fit("bn-dropout-gelu")
    buffer = io.BytesIO()
    save(est, buffer)
    return buffer.getvalue(), X


def _members(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _repack(data, edit=None, text=None, **arrays):
    """Rewrite a valid file with edited metadata and arrays (valid zip and CRCs)."""
    members = _members(data)
    meta = json.loads(members["metadata"].tobytes())
    if edit is not None:
        edit(meta)
    text = json.dumps(meta) if text is None else text(json.dumps(meta))
    members["metadata"] = np.frombuffer(text.encode(), dtype=np.uint8)
    members.update(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **{k: v for k, v in members.items() if v is not None})
    return buffer.getvalue()


def _refused(data, match):
    with pytest.raises(ValueError, match=match) as info:
        load(io.BytesIO(data))
    assert isinstance(info.value, ModelFileError)
    assert INVALID in str(info.value)


def test_repacked_valid_file_loads(valid):
    data, X = valid
    assert load(io.BytesIO(_repack(data))).predict_proba(X).shape == (X.shape[0], 3)
    # A training-history field the file lacks (added later) keeps its default.
    loaded = load(io.BytesIO(_repack(data, _set(("history", "steps"), _DELETE))))
    assert loaded._history.steps == 0


def test_missing_file_is_not_a_valueerror(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("make, match", [
    (lambda est: b"", "empty"),
    (lambda est: b"hello world, not a model", "not a zip"),
    (lambda est: pickle.dumps(est), "pickle"),
    (lambda est: _joblib_bytes(est), "pickle"),
    (lambda est: _npy(np.arange(3.0)), "single .npy"),
])
def test_wrong_kind_of_file(valid, make, match, tmp_path):
    est = load(io.BytesIO(valid[0]))
    path = tmp_path / "model.npz"
    path.write_bytes(make(est))
    with pytest.raises(ValueError, match=match) as info:
        load(path)
    assert str(info.value).startswith(repr(str(path)))


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_foreign_zip_and_extra_members(valid):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.txt", "hi")
    _refused(buffer.getvalue(), "unexpected member 'hello.txt'")
    _refused(_repack(valid[0], extra=np.zeros(2)), "unexpected member 'extra.npy'")
    _refused(_repack(valid[0], state=None), r"members \['state'\] are missing")


def test_object_array_is_refused(valid):
    objects = np.array([{"__reduce__": "boom"}, 1], dtype=object)
    _refused(_repack(valid[0], params=objects), "object array")


def test_compressed_members_are_refused(valid):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **_members(valid[0]))
    _refused(buffer.getvalue(), "compressed")


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.01, 0.3, 0.5, 0.9, 0.99, 0.999])
def test_truncated_file(valid, fraction):
    data = valid[0]
    for cut in {int(len(data) * fraction), len(data) - 1, len(data) - 30}:
        with pytest.raises(ValueError, match=INVALID):
            load(io.BytesIO(data[:cut]))


def _set(path, value):
    def edit(meta):
        node = meta
        for key in path[:-1]:
            node = node[key]
        if value is _DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return edit


_DELETE = object()


@pytest.mark.parametrize("path, value, match", [
    (("format",), "pickle", "does not name the sknumpy_mlp format"),
    (("format_version",), 2, "newer than this version reads"),
    (("format_version",), "1", "unknown format version"),
    (("surprise",), 1, r"unknown keys \['surprise'\]"),
    (("fitted",), _DELETE, r"missing keys \['fitted'\]"),
    (("estimator",), "os.system", "unknown estimator"),
    (("params", "alpha"), -1.0, "invalid hyperparameters.*alpha"),
    (("params", "activation"), "swish", "invalid hyperparameters.*activation"),
    (("params", "max_iter"), 1.5, "invalid hyperparameters.*max_iter"),
    (("params", "surprise"), 1, r"params has .*unknown keys \['surprise'\]"),
    (("params", "tol"), _DELETE, r"missing keys \['tol'\]"),
    (("params", "dropout"), {"__reduce__": ["os.system", "ls"]}, "unsupported value"),
    (("params", "dropout"), {"__ndarray__": [0.1], "dtype": "O"}, "invalid array"),
    (("params", "random_state"), {"__random_state__": {"pos": 1, "has_gauss": 0,
                                                       "cached_gaussian": 0.0}},
     "valid RandomState"),
    (("network", "layer_units"), [5, 6, 6, 3], "need"),
    (("network", "layer_units"), [5, 6, 0, 3], "positive ints"),
    (("network", "activation"), ["relu"], "unknown activation"),
    (("network", "dtype"), "float16", "float32 or float64"),
    (("network", "dtype"), "float64", "need"),
    (("network", "dropout"), [0.1, 1.0], r"rate in \[0, 1\)"),
    (("network", "batch_norm"), False, "need"),
    (("network", "batch_norm"), 1, "true or false"),
    (("target", "type"), "binary", "classes do not fit"),
    (("target", "type"), "continuous", "unknown target type"),
    (("target", "classes", "values"), ["cat", "dog"], "classes do not fit"),
    (("target", "classes", "values"), ["emu", "dog", "cat"], "unique and sorted"),
    (("target", "classes", "values"), ["cat", "dog", "emus"], "do not fit <U3"),
    (("target", "classes", "values"), ["cat", "dog", 3], "do not match"),
    (("target", "classes", "dtype"), "<M8[s]", "unsupported classes dtype"),
    (("fitted", "n_features_in_"), 4, "do not match the layers"),
    (("fitted", "out_activation_"), "logistic", "do not match the layers"),
    (("fitted", "n_iter_"), -1, "invalid value"),
    (("fitted", "loss_curve_"), [0.5, "x"], "invalid value"),
    (("fitted", "feature_names_in_"), ["a"], "1 feature names for 5 features"),
    (("fitted", "coefs_"), [[1.0]], r"unknown keys \['coefs_'\]"),
    (("history", "surprise"), 1, r"history has .*unknown keys \['surprise'\]"),
    (("history", "steps"), -1, "steps has an invalid value"),
    (("history", "early_stopping"), True, "contradicts validation_scores_"),
])
def test_tampered_metadata(valid, path, value, match):
    _refused(_repack(valid[0], _set(path, value)), match)


@pytest.mark.parametrize("text, match", [
    (lambda t: t[:-1], "damaged"),
    (lambda t: t.replace('"format"', '"format": "x", "format"', 1), "repeats keys"),
    (lambda t: "[" * 5000 + "]" * 5000, "damaged"),
    (lambda t: "[]", "does not name"),
])
def test_malformed_json(valid, text, match):
    _refused(_repack(valid[0], text=text), match)


def test_invalid_utf8(valid):
    members = _members(valid[0])
    members["metadata"] = np.frombuffer(b"\xff\xfe{}", dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    _refused(buffer.getvalue(), "UnicodeDecodeError")


def test_tampered_arrays(valid):
    data = valid[0]
    params = _members(data)["params"]
    state = _members(data)["state"]
    _refused(_repack(data, params=params[:-1]), "need")
    _refused(_repack(data, params=params.astype(np.float64)), "need")
    _refused(_repack(data, params=params.astype(np.int32)), "dtype int32")
    _refused(_repack(data, params=params.reshape(1, -1)), "shape")
    bad = params.copy()
    bad[3] = np.nan
    _refused(_repack(data, params=bad), "non-finite")
    _refused(_repack(data, state=-np.abs(state) - 1), "running variance is negative")


def test_header_lies_about_size(valid):
    """A member whose .npy header claims more values than it holds is refused unread."""
    members = _members(valid[0])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, array in members.items():
            blob = _npy(array)
            if name == "params":
                blob = blob.replace(f"({array.size},)".encode(), b"(10000000000,)", 1)
            zf.writestr(name + ".npy", blob)
    _refused(buffer.getvalue(), "does not hold the 10000000000 values")


# ---------------------------------------------------------------------- fuzzing
_edits = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete"]),
                            st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                  min_size=1, max_size=4)


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_edits)
def test_fuzzed_bytes_load_or_raise_valueerror(valid, edits):
    data, X = valid
    data = bytearray(data)
    for kind, where, byte in edits:
        i = int(where * len(data))
        if kind == "flip":
            data[i] ^= byte or 1
        elif kind == "insert":
            data.insert(i, byte)
        else:
            del data[i]
    _load_or_valueerror(bytes(data), X)


def _load_or_valueerror(data, X):
    try:
        est = load(io.BytesIO(data))
    except ValueError as exc:
        assert INVALID in str(exc)
        return
    assert est.predict_proba(X).shape == (X.shape[0], len(est.classes_))


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**20) | st.floats()
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_metadata_load_or_raise_valueerror(valid, data):
    """Valid zip and CRCs, arbitrary JSON at any place: the validators must hold."""
    raw, X = valid
    meta = json.loads(_members(raw)["metadata"].tobytes())
    paths = [p for p in _paths(meta) if p]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(_json)
    _load_or_valueerror(_repack(raw, _set(path, value)), X)


# ------------------------------------------------------------------------ skops
@pytest.mark.parametrize("case", ["binary-float64", "bn-dropout-gelu", "multilabel",
                                  "objects-classweight"])
def test_skops_roundtrip(case, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, X, y = _fit(case)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_model(est, loaded, X)
    if hasattr(loaded, "partial_fit") and not loaded.early_stopping:  # stochastic solver
        loaded.partial_fit(X, y)


# --------------------------------------------------------------------- regressor
REGRESSOR_CASES = {
    "adam": dict(),
    "poisson-lbfgs": dict(loss="poisson", solver="lbfgs"),
    "multioutput-es": dict(early_stopping=True, solver="sgd"),
    "bn-dropout-float32": dict(batch_norm=True, dropout=0.1, activation="silu",
                               solver="adamw", learning_rate="cosine"),
}


def _fit_regressor(case):
    from sklearn.datasets import make_regression

    from sknumpy_mlp import MLPScratchRegressor

    params = REGRESSOR_CASES[case]
    X, y = make_regression(90, 5, n_targets=3 if "multi" in case else 1,
                           random_state=0)
    y = y / np.abs(y).max()
    if params.get("loss") == "poisson":
        y = np.exp(y)
    X = X.astype(np.float32 if "float32" in case else np.float64)
    params = {"hidden_layer_sizes": (6,), "max_iter": 15, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPScratchRegressor(**params).fit(X, y), X, y


def _assert_same_regressor(a, b, X):
    assert type(b) is type(a)
    np.testing.assert_array_equal(b.predict(X), a.predict(X), strict=True)
    assert b.get_params() == a.get_params()
    for name in _FITTED:
        assert hasattr(b, name) == hasattr(a, name), name
        if hasattr(a, name):
            np.testing.assert_equal(getattr(b, name), getattr(a, name))
    assert b._history == a._history
    assert not hasattr(b, "classes_")
    assert all(np.shares_memory(c, b._network.params) for c in b.coefs_ + b.intercepts_)


@pytest.mark.parametrize("case", REGRESSOR_CASES)
def test_regressor_roundtrip_is_bit_identical(case, tmp_path):
    est, X, y = _fit_regressor(case)
    path = tmp_path / "model.skmlp"
    save(est, path)
    loaded = load(path)
    _assert_same_regressor(est, loaded, X)
    assert json.loads(bytes(np.load(path)["metadata"]))["target"] is None
    if hasattr(loaded, "partial_fit") and not loaded.early_stopping:
        loaded.partial_fit(X, y)  # a loaded regressor keeps training


def test_regressor_head_comes_from_the_fit_not_the_parameters():
    est, X, _ = _fit_regressor("poisson-lbfgs")
    est.set_params(loss="squared_error")
    loaded = _roundtrip(est)
    _assert_same_regressor(est, loaded, X)
    assert loaded.out_activation_ == "exp" and loaded.loss == "squared_error"


@pytest.mark.parametrize("dump, load_", [
    (pickle.dumps, pickle.loads),
    (lambda est: _joblib_bytes(est), lambda raw: joblib.load(io.BytesIO(raw))),
])
def test_regressor_pickle_and_joblib(dump, load_):
    est, X, _ = _fit_regressor("bn-dropout-float32")
    _assert_same_regressor(est, load_(dump(est)), X)


@pytest.mark.parametrize("case", ["adam", "multioutput-es", "bn-dropout-float32"])
def test_regressor_skops_roundtrip(case, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, X, _ = _fit_regressor(case)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert set(untrusted) <= set(SKOPS_TRUSTED_TYPES)
    _assert_same_regressor(est, sio.load(path, trusted=untrusted), X)


def test_regressor_file_with_a_classifier_target_is_refused():
    est, X, _ = _fit_regressor("adam")
    clf, *_ = _fit("strings-float32")
    buffer = io.BytesIO()
    save(clf, buffer)
    target = json.loads(bytes(np.load(io.BytesIO(buffer.getvalue()))["metadata"]))["target"]
    buffer = io.BytesIO()
    save(est, buffer)
    with np.load(io.BytesIO(buffer.getvalue())) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(bytes(arrays["metadata"]))
    meta["target"] = target
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    tampered = io.BytesIO()
    np.savez(tampered, **arrays)
    with pytest.raises(ModelFileError, match="target must be null"):
        load(io.BytesIO(tampered.getvalue()))


# --------------------------------------------- pickles written by version 0.1
DATA = Path(__file__).parent / "data"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.InconsistentVersionWarning")
@pytest.mark.parametrize("name", ["classifier_adam", "classifier_bn_dropout_gelu_float32",
                                  "regressor_lbfgs"])
def test_pickles_of_0_1_load_predict_and_train_on(name):
    """Pickled by sknumpy_mlp 0.1, before the layer protocol (``tests/data``): they load,
    predict what they predicted then (to the last bits: another machine's BLAS may round
    differently), save in the safe format and keep training."""
    from sklearn.datasets import load_diabetes, load_iris

    with open(DATA / f"{name}-0.1.pkl", "rb") as f:
        est = pickle.load(f)  # the files are ours, written by the test-data script
    regressor = name.startswith("regressor")
    X, y = (load_diabetes if regressor else load_iris)(return_X_y=True)
    X = X.astype(np.float32) if "float32" in name else X
    expected = np.load(DATA / "expected-0.1.npz")[name]
    got = est.predict(X) if regressor else est.predict_proba(X)
    rtol = 1e-5 if got.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=rtol)
    buffer = io.BytesIO()
    save(est, buffer)
    np.testing.assert_array_equal(load(io.BytesIO(buffer.getvalue())).predict(X),
                                  est.predict(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(warm_start=True, max_iter=3).fit(X, y)
    assert np.shares_memory(est.coefs_[0], est._network.params)
