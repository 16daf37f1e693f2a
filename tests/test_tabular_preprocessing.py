import functools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpy_mlp.tabular import TabularPreprocessor, smooth_clip
from sknumpy_mlp.tabular._preprocessing_state import (
    preprocessor_from_state,
    preprocessor_state,
)

SQRT13 = np.sqrt(13.0)
PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


@parametrize_with_checks([
    TabularPreprocessor(),
    TabularPreprocessor(clip=None, scale_one_hot=False, dtype="float32"),
])  # fmt: skip
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ numbers
def test_smooth_clip_values():
    # x / sqrt(1 + (x/3)^2): 3 -> 3/sqrt(2); 4 -> 4 / (5/3) = 2.4; 2 -> 6/sqrt(13)
    x = np.array([0.0, 3.0, 4.0, -4.0, 2.0, 1e9])
    expected = [0.0, 3 / np.sqrt(2), 2.4, -2.4, 6 / SQRT13, 3.0]
    assert_allclose(smooth_clip(x), expected, rtol=1e-12)
    assert_allclose(smooth_clip([1.0], bound=1.0), [1 / np.sqrt(2)])


def test_robust_scaling_by_hand():
    # [1, 2, 3, 4, 100]: quartiles 2 and 4 (linear interpolation), median 3
    X = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    out = TabularPreprocessor(clip=None).fit_transform(X)
    assert_allclose(out.ravel(), [-1.0, -0.5, 0.0, 0.5, 48.5])
    clipped = TabularPreprocessor().fit_transform(X).ravel()
    assert_allclose(clipped[-1], 48.5 / np.sqrt(1 + (48.5 / 3) ** 2))
    assert np.all(np.abs(clipped) < 3)


def test_zero_iqr_uses_half_range_and_constant_gives_zero():
    # column 0: quartiles both 0 -> half range (6 - 0) / 2 = 3: 6 -> 2 -> 6/sqrt(13)
    # column 1: constant -> factor 0, also for a new value at transform time
    X = np.array([[0.0, 5.0], [0.0, 5.0], [0.0, 5.0], [0.0, 5.0], [6.0, 5.0]])
    pre = TabularPreprocessor().fit(X)
    assert_allclose(pre.transform(X)[:, 0], [0, 0, 0, 0, 6 / SQRT13])
    assert_allclose(pre.transform([[3.0, 7.0]]), [[1 / np.sqrt(1 + 1 / 9), 0.0]])


def test_same_as_robust_scaler_where_iqr_positive():
    X = np.random.default_rng(0).lognormal(size=(50, 4))
    ours = TabularPreprocessor(clip=None).fit_transform(X)
    assert_allclose(ours, RobustScaler().fit_transform(X), rtol=1e-12)


def test_numeric_missing_gets_indicator_and_median_fill():
    # observed 1, 3, 5: median 3, quartiles 2 and 4 -> NaN becomes 0 (the median)
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 5.0], "b": [1.0, 2.0, 3.0, 4.0]})
    pre = TabularPreprocessor(clip=None).fit(X)
    assert pre.get_feature_names_out().tolist() == [
        "num__a", "num__b", "missing__missingindicator_a"]
    out = pre.transform(X)
    assert_allclose(out[:, 0], [-1.0, 0.0, 0.0, 1.0])
    assert_array_equal(out[:, 2], [0, 1, 0, 0])
    # a missing value where fit saw none: filled, no indicator, no error
    assert_allclose(pre.transform(pd.DataFrame({"a": [3.0], "b": [np.nan]})),
                    [[0.0, 0.0, 0.0]])


def test_all_missing_columns():
    X = pd.DataFrame({"num": [np.nan] * 4, "cat": pd.Series([None] * 4, dtype=object),
                      "ok": [1.0, 2.0, 3.0, 4.0]})
    pre = TabularPreprocessor(scale_one_hot=False)
    out = pre.fit_transform(X)  # no warning (filterwarnings = error)
    assert pre.get_feature_names_out().tolist() == [
        "num__num", "num__ok", "missing__missingindicator_num", "onehot__cat_nan"]
    assert_array_equal(out[:, 0], 0.0)
    assert_array_equal(out[:, 2:], 1.0)
    assert pre.transform(X.iloc[:1].assign(num=2.0, cat="new"))[0, 3] == 0.0


def test_booleans_are_numeric():
    X = pd.DataFrame({"flag": [True, False, True, True]})
    pre = TabularPreprocessor().fit(X)
    assert pre.feature_kinds_.tolist() == ["numeric"]


# --------------------------------------------------------------- categories
def frame(dtype):
    colour = pd.Series(["red", "blue", None, "red", "green", "blue"], dtype=dtype)
    return pd.DataFrame({"colour": colour, "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})


@pytest.mark.parametrize("dtype", [object, "category", "string", "str"])
def test_categorical_dtypes_give_the_same_output(dtype):
    pre = TabularPreprocessor(scale_one_hot=False).fit(frame(dtype))
    assert pre.feature_kinds_.tolist() == ["one-hot", "numeric"]
    assert pre.get_feature_names_out().tolist() == [
        "num__x", "onehot__colour_blue", "onehot__colour_green", "onehot__colour_red",
        "onehot__colour_nan"]
    reference = TabularPreprocessor(scale_one_hot=False).fit_transform(frame(object))
    assert_array_equal(pre.transform(frame(dtype)), reference)
    assert_array_equal(reference[:, 1:], [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1],
                                          [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]])


def test_one_hot_scaled_as_realmlp_does():
    # a level in 1 of 6 rows: quartiles 0, half range 0.5 -> 1 becomes 2 -> 6/sqrt(13)
    pre = TabularPreprocessor().fit(frame(object))
    green = list(pre.get_feature_names_out()).index("onehot__colour_green")
    assert_allclose(pre.transform(frame(object))[:, green], [0, 0, 0, 0, 6 / SQRT13, 0])


@pytest.mark.parametrize("binary_encoding, names", [
    ("signed", ["binary__two", "onehot__few_a", "onehot__few_b", "onehot__few_c"]),
    ("one-hot", ["onehot__two_a", "onehot__two_b", "onehot__few_a", "onehot__few_b",
                 "onehot__few_c"]),
])  # fmt: skip
def test_unseen_categories_do_not_fail(binary_encoding, names):
    levels = [f"l{i}" for i in range(10)]
    train = pd.DataFrame({"two": ["a", "b"] * 5, "few": list("abcab" * 2), "many": levels})
    test = pd.DataFrame({"two": ["zzz", None], "few": ["zzz", None], "many": ["new", None]})
    pre = TabularPreprocessor(scale_one_hot=False, binary_encoding=binary_encoding)
    pre.fit(train)
    assert pre.get_feature_names_out().tolist() == [*names, "code__many"]
    assert_array_equal(pre.transform(test), np.zeros((2, len(names) + 1)))


def test_many_levels_become_codes_with_cardinalities():
    levels = list("jihgfedcba")  # 10 levels > 8; codes follow the sorted text
    X = pd.DataFrame({"x": np.arange(11.0), "many": pd.Categorical(levels + [None]),
                      "two": ["u", "v"] * 5 + ["u"]})
    pre = TabularPreprocessor().fit(X)
    assert pre.feature_kinds_.tolist() == ["numeric", "code", "binary"]
    names = pre.get_feature_names_out().tolist()
    assert names == ["num__x", "binary__two", "code__many"]
    assert_array_equal(pre.code_columns_, [2])
    assert_array_equal(pre.code_cardinalities_, [11])  # 10 levels + missing/unknown
    assert_array_equal(pre.transform(X)[:, 2], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0])


# ---------------------------------------------------------- two-level columns
def test_two_levels_become_one_signed_column():
    """First level (as text) +1, second -1, missing 0: RealMLP-TD's 1-d encoding."""
    X = pd.DataFrame({"vote": pd.Categorical(["y", "n", None, "y", "y", "n"])})
    pre = TabularPreprocessor(scale_one_hot=False).fit(X)
    assert pre.feature_kinds_.tolist() == ["binary"]
    assert pre.get_feature_names_out().tolist() == ["binary__vote"]
    assert_array_equal(pre.transform(X).ravel(), [-1, 1, 0, -1, -1, 1])
    # then scaled like a number: sorted -1 -1 -1 0 1 1, linear interpolation at 5q:
    # quartiles -1, -0.5, 0.75, so (v + 0.5) / 1.75, then smooth clipping
    scaled = TabularPreprocessor().fit(X).transform(X).ravel()
    assert_allclose(scaled, smooth_clip((np.array([-1, 1, 0, -1, -1, 1]) + 0.5) / 1.75))


def test_two_levels_one_hot_on_request_and_codes_below_the_threshold():
    X = np.array([["a"], ["b"], [None]], dtype=object)
    pre = TabularPreprocessor(binary_encoding="one-hot", scale_one_hot=False).fit(X)
    assert pre.feature_kinds_.tolist() == ["one-hot"]
    assert_array_equal(pre.transform(X), [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert TabularPreprocessor(max_one_hot_levels=1).fit(X).feature_kinds_.tolist() == [
        "code"]
    assert TabularPreprocessor(max_one_hot_levels=None).fit(X).feature_kinds_.tolist() \
        == ["binary"]
    one_level = np.array([["a"], ["a"], [None]], dtype=object)
    assert TabularPreprocessor().fit(one_level).feature_kinds_.tolist() == ["one-hot"]


@pytest.mark.parametrize("n_levels, kind", [(8, "one-hot"), (9, "code")])
def test_one_hot_threshold(n_levels, kind):
    X = np.array([[f"v{i}"] for i in range(n_levels)] + [[None]], dtype=object)
    assert TabularPreprocessor().fit(X).feature_kinds_.tolist() == [kind]
    everything = TabularPreprocessor(max_one_hot_levels=None).fit(X)
    assert everything.feature_kinds_.tolist() == ["one-hot"]
    assert everything.code_columns_.size == 0


def test_arrays_object_is_categorical_numeric_is_numeric():
    pre = TabularPreprocessor(scale_one_hot=False)
    assert_array_equal(pre.fit_transform(np.array([["a"], ["b"], ["c"]], dtype=object)),
                       np.eye(3))
    assert pre.get_feature_names_out().tolist() == [
        "onehot__x0_a", "onehot__x0_b", "onehot__x0_c"]
    assert_array_equal(pre.fit_transform(np.array([["a"], ["b"]], dtype=object)),
                       [[1], [-1]])
    assert pre.get_feature_names_out().tolist() == ["binary__x0"]
    assert TabularPreprocessor().fit(np.eye(3)).feature_kinds_.tolist() == ["numeric"] * 3


# ------------------------------------------------------------ layout, output
def test_column_order_and_names_follow_blocks():
    X = pd.DataFrame({"c1": ["a", "b", "a", None], "n1": [1.0, np.nan, 3.0, 4.0],
                      "c2": list("wxyz"), "n2": [4.0, 3.0, 2.0, 1.0]})
    pre = TabularPreprocessor(max_one_hot_levels=3).fit(X)
    assert pre.feature_kinds_.tolist() == ["binary", "numeric", "code", "numeric"]
    assert pre.get_feature_names_out().tolist() == [
        "num__n1", "num__n2", "missing__missingindicator_n1", "binary__c1", "code__c2"]
    assert_array_equal(pre.code_columns_, [4])
    # the same columns in another order are refused, as scikit-learn does
    with pytest.raises(ValueError, match="feature names"):
        pre.transform(X[["n1", "c1", "c2", "n2"]])


def test_set_output_pandas_and_float32():
    X = frame("category").set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    pre = TabularPreprocessor(dtype="float32").set_output(transform="pandas")
    out = pre.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == pre.get_feature_names_out().tolist()
    assert out.index.tolist() == X.index.tolist()
    assert set(out.dtypes) == {np.dtype(np.float32)}
    plain = TabularPreprocessor(dtype=np.float32).fit(X).transform(X)
    assert plain.dtype == np.float32
    assert_allclose(plain, out.to_numpy())


def test_in_a_pipeline_with_a_classifier():
    from sklearn.linear_model import LogisticRegression

    X = frame("category")
    y = [0, 1, 0, 0, 1, 1]
    model = make_pipeline(TabularPreprocessor(), LogisticRegression()).fit(X, y)
    assert model.predict_proba(X).shape == (6, 2)


def test_category_columns_become_the_same_text_level_by_level():
    """The per-level path for pandas categories gives the per-row path's strings."""
    from sknumpy_mlp.tabular._preprocessing import _as_text

    X = pd.DataFrame({
        "str": pd.Categorical(["a", None, "b", "a"]),
        "int": pd.Categorical([1, 2, None, 10]),
        "float": pd.Categorical([0.1, 2.0, 2.0, None]),
        "bool": pd.Categorical([True, False, None, True]),
        "object": pd.Series(["x", None, 3, "x"], dtype=object),
        "empty": pd.Categorical([None] * 4, categories=["never"]),
    })
    values = np.asarray(X, dtype=object)  # the per-row path, written out
    expected = values.astype(str).astype(object)
    expected[np.asarray(pd.isna(values), dtype=bool)] = np.nan
    text = _as_text(X)
    assert text.dtype == object and text.shape == X.shape
    assert [[v if isinstance(v, str) else "NaN" for v in row] for row in text] == [
        [v if isinstance(v, str) else "NaN" for v in row] for row in expected]
    assert all(type(v) is str or (type(v) is float and v != v) for v in text.ravel())


# ------------------------------------------------ transform without the ColumnTransformer
def assert_same_as_column_transformer(pre, X):
    """``transform`` gives the ColumnTransformer's array: bits, dtype, memory layout."""
    expected = pre.column_transformer_.transform(X).astype(pre.dtype)
    out = pre.transform(X)
    assert out.dtype == expected.dtype == np.dtype(pre.dtype)
    assert_array_equal(out, expected)
    bits = f"u{out.itemsize}"  # tells -0.0 from 0.0
    assert_array_equal(out.view(bits), expected.view(bits))
    if PANDAS_3 or not isinstance(X, pd.DataFrame):  # pandas 2 copies columns it selects
        assert out.flags.f_contiguous == expected.flags.f_contiguous
        assert out.flags.c_contiguous == expected.flags.c_contiguous
    return out


def train_table(n=40):
    rng = np.random.RandomState(0)
    x = rng.normal(size=n)
    x[::5] = np.nan
    return pd.DataFrame({
        "x": x,                                                      # numeric, NaN
        "count": rng.randint(0, 9, n),                               # numeric, int
        "two": pd.Categorical(rng.choice(["no", "yes"], n)),         # binary
        "few": pd.Series(rng.choice(["u", "v", "w", None], n), dtype=object),  # one-hot
        "many": pd.Series(rng.choice([f"l{i}" for i in range(6)], n),
                          dtype="string"),                           # code (> 3 levels)
        "small": rng.rand(n).astype(np.float32),                     # numeric, float32
    })  # fmt: skip


PARAMS = [{}, {"dtype": "float32"}, {"clip": None, "scale_one_hot": False},
          {"binary_encoding": "one-hot", "max_one_hot_levels": None}]
MISSING = [None, np.nan, pd.NA]


@functools.cache
def fitted(i):
    return TabularPreprocessor(**{"max_one_hot_levels": 3, **PARAMS[i]}).fit(train_table())


@st.composite
def transform_tables(draw):
    """Rows of ``train_table``'s columns: seen and unseen levels, every missing marker."""
    n = draw(st.integers(1, 8))
    number = st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))
    def column(values):
        return draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))
    return pd.DataFrame({
        "x": draw(st.lists(number, min_size=n, max_size=n)),
        "count": draw(st.lists(st.integers(-5, 20), min_size=n, max_size=n)),
        "two": pd.Categorical(column(["no", "yes", "maybe", None, np.nan])),
        "few": pd.Series(column(["u", "v", "w", "new", 3, *MISSING]), dtype=object),
        "many": pd.Series(column(["l0", "l5", "l9", None, pd.NA]), dtype="string"),
        "small": np.array(draw(st.lists(number, min_size=n, max_size=n)), np.float32),
    })


@settings(max_examples=30, deadline=None, database=None)
@given(X=transform_tables(), i=st.integers(0, len(PARAMS) - 1))
def test_transform_is_the_column_transformers_on_mixed_frames(X, i):
    pre = fitted(i)
    assert pre.feature_kinds_.tolist() == [
        "numeric", "numeric", "one-hot" if i == 3 else "binary",
        "one-hot", "one-hot" if i == 3 else "code", "numeric"]
    assert_same_as_column_transformer(pre, X)


def test_transform_is_the_column_transformers_on_the_training_frame():
    for i in range(len(PARAMS)):
        assert_same_as_column_transformer(fitted(i), train_table())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_transform_is_the_column_transformers_on_arrays(dtype):
    rng = np.random.RandomState(1)
    X = rng.lognormal(size=(30, 4))
    X[::3, 1] = np.nan
    pre = TabularPreprocessor(dtype=dtype).fit(X)
    for table in (X, X[:1], X[::-2], X.astype(np.float32), np.asfortranarray(X),
                  np.nan_to_num(X).astype(int), pd.DataFrame(X),
                  pd.DataFrame(X, copy=False), pd.DataFrame(np.hstack([X, X])[:, ::2])):
        assert_same_as_column_transformer(pre, table)
    codes = TabularPreprocessor(max_one_hot_levels=2, dtype=dtype)
    Z = np.array([["a", 1, None, "x"], ["b", 2.5, "p", "y"], ["a", None, "q", "z"],
                  ["c", 3, "p", pd.NA]], dtype=object)
    codes.fit(Z)
    assert codes.feature_kinds_.tolist() == ["code", "code", "binary", "code"]
    for table in (Z, np.array([["new", 7, np.nan, "x"]], dtype=object)):
        assert_same_as_column_transformer(codes, table)
    text = np.array([["a", "x"], ["b", "y"], ["c", "x"]])
    assert_same_as_column_transformer(TabularPreprocessor(dtype=dtype).fit(text), text)


def test_transform_of_numbers_in_other_dtypes_than_in_fit():
    pre = fitted(0)
    X = train_table()
    for column, dtype in [("x", "Float64"), ("x", np.float32), ("count", np.float64),
                          ("count", "Int64"), ("small", object)]:
        assert_same_as_column_transformer(pre, X.astype({column: dtype}))
    floats = TabularPreprocessor().fit(np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]))
    # an object array where fit saw floats: None is NaN for the numbers but not for
    # MissingIndicator, whose own rule the transform keeps
    assert_same_as_column_transformer(
        floats, np.array([[1.0, None], [None, 2.0], [7, np.nan]], dtype=object))


@pytest.mark.parametrize("bad, match", [(np.inf, "infinity"), (-np.inf, "infinity"),
                                        ("abc", "could not convert")])
def test_invalid_numbers_at_transform_time_raise(bad, match):
    X = train_table().astype({"x": object})
    X.loc[3, "x"] = bad
    with pytest.raises(ValueError, match=match):
        fitted(0).transform(X)
    A = np.array([[1.0, 2.0], [3.0, np.nan]])
    pre = TabularPreprocessor().fit(A)
    with pytest.raises(ValueError, match=match):
        pre.transform(np.array([[1.0, bad]], dtype=object))


def test_transform_of_a_preprocessor_loaded_from_its_state():
    X = train_table()
    for i in range(len(PARAMS)):
        state = json.loads(json.dumps(preprocessor_state(fitted(i))))
        loaded = preprocessor_from_state(state)
        out = assert_same_as_column_transformer(loaded, X)
        assert_array_equal(out, fitted(i).transform(X))
        unseen = X.iloc[:3].astype({"few": object, "x": np.float64})
        unseen.loc[0, "few"], unseen.loc[1, "x"] = "new", np.nan
        assert_same_as_column_transformer(loaded, unseen)
    for A in (np.random.RandomState(2).normal(size=(9, 3)),
              np.array([["a", "x"], ["b", None], ["c", "x"]], dtype=object)):
        loaded = preprocessor_from_state(preprocessor_state(TabularPreprocessor().fit(A)))
        assert_same_as_column_transformer(loaded, A)


def test_transform_with_pandas_output():
    X = train_table().set_index(np.arange(40) * 2)
    pre = TabularPreprocessor().set_output(transform="pandas").fit(X)
    out = pre.transform(X)
    assert out.columns.tolist() == pre.get_feature_names_out().tolist()
    assert out.index.tolist() == X.index.tolist()
    assert_array_equal(out.to_numpy(), pre.column_transformer_.transform(X))
