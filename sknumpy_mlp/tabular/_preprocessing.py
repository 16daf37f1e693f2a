"""Preprocessing of the RealMLP-TD recipe as a scikit-learn transformer.

Numbers are centred on their median, divided by their inter-quartile range and then
squashed smoothly into (-3, 3); a category with two levels becomes one column of +1 / -1,
others one-hot columns when they have few levels, and integer codes (for an embedding
layer) when they have many; a missing value gets an indicator and a neutral fill; a
category not seen in ``fit`` does not fail.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data


def smooth_clip(x, bound=3.0):
    r"""Squash ``x`` smoothly into ``(-bound, bound)``.

    .. math:: \operatorname{clip}(x) = \frac{x}{\sqrt{1 + (x / b)^2}}

    It is close to the identity for ``|x| << b`` (slope 1 at 0) and tends to ``±b``,
    so an outlier keeps its order and sign but cannot dominate a first layer.

    Parameters
    ----------
    x : array-like
        Values to squash.
    bound : float, default=3.0
        The asymptote ``b``.

    Returns
    -------
    ndarray
        The squashed values, same shape as ``x``.

    Examples
    --------
    >>> from sknumpy_mlp.tabular import smooth_clip
    >>> smooth_clip([0.0, 4.0, -1e6]).round(4)
    array([ 0. ,  2.4, -3. ])
    """
    x = np.asarray(x, dtype=float)
    return x / np.sqrt(1.0 + (x / bound) ** 2)


class _RobustSmoothClip(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Median centring, inter-quartile scaling and smooth clipping, NaN-tolerant.

    The quantiles come from the observed values of each column (``np.nanquantile``,
    linear interpolation, as ``RobustScaler``). Unlike ``RobustScaler``, whose scale is 1
    where the inter-quartile range is 0, RealMLP then uses half the range (max - min) / 2,
    and a factor 0 for a constant column. It matters for sparse columns (word counts,
    one-hot columns) whose upper quartile is 0: they end up on the scale of the rest.
    NaN stays NaN (the fill comes after).
    """

    def __init__(self, clip=3.0):
        self.clip = clip

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        observed = ~np.all(np.isnan(X), axis=0)  # nanquantile warns on all-NaN columns
        center = np.zeros(X.shape[1])
        spread = np.zeros(X.shape[1])
        if observed.any():
            seen = X[:, observed]
            q25, q50, q75 = np.nanquantile(seen, [0.25, 0.5, 0.75], axis=0)
            half_range = (np.nanmax(seen, axis=0) - np.nanmin(seen, axis=0)) / 2.0
            center[observed] = q50
            spread[observed] = np.where(q75 > q25, q75 - q25, half_range)
        return self._set_statistics(center, spread)

    def _set_statistics(self, center, spread):
        """The fitted state from the medians and spreads (what a model file keeps)."""
        self.center_, self.scale_ = center, spread
        self.factor_ = np.divide(1.0, spread, out=np.zeros_like(spread), where=spread > 0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan",
                          reset=False)
        return self._scale(X)

    def _scale(self, X):
        """The scaled and clipped values of a validated float64 array (NaN stays NaN)."""
        Z = (X - self.center_) * self.factor_  # (n_samples, n_features)
        return Z if self.clip is None else smooth_clip(Z, self.clip)


def _as_text(X):
    """Category values as an object array of str, missing values (None, NA) as np.nan.

    Text makes mixed columns (1 and "a") sortable for the encoders and gives every dtype
    (category, object, str) one missing-value marker.
    """
    if _is_frame(X) and X.shape[1] and any(_is_category(d) for d in X.dtypes):
        # Column by column: a pandas category column is turned into text once per
        # level, not once per row (the same strings: ``str`` of each level).
        return np.column_stack([_category_text(X.iloc[:, j]) if _is_category(d)
                                else _as_text(X.iloc[:, [j]])[:, 0]
                                for j, d in enumerate(X.dtypes)])
    values = np.asarray(X, dtype=object)
    missing = np.asarray(_isna(values), dtype=bool)
    text = values.astype(str).astype(object)
    text[missing] = np.nan
    return text


def _is_category(dtype):
    import pandas as pd

    return isinstance(dtype, pd.CategoricalDtype)


def _category_text(column):
    """:func:`_as_text` of one pandas category column, from its levels and codes."""
    levels = np.array([str(v) for v in column.cat.categories] + [np.nan], dtype=object)
    return levels[column.cat.codes.to_numpy()]  # code -1 (missing) picks the NaN


def _isna(values):
    try:  # pandas knows every missing marker (None, NaN, NaT, pd.NA)
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return np.frompyfunc(lambda v: v is None or (isinstance(v, float) and v != v),
                             1, 1)(values)
    return pd.isna(values)


def _shift_codes(codes):
    """OrdinalEncoder's -1 (missing or unknown) and 0..k-1 become 0 and 1..k."""
    return np.asarray(codes, dtype=np.float64) + 1.0


def _signed_codes(codes):
    """OrdinalEncoder's codes of a two-level column as signs.

    Levels 0 and 1 become +1 and -1; missing or unknown (code -1) becomes 0.
    """
    codes = np.asarray(codes, dtype=np.float64)
    return np.where(codes < 0, 0.0, 1.0 - 2.0 * codes)


def _is_categorical_dtype(dtype):
    import pandas as pd

    return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype)


#: Parameters added after models were saved, with the values that reproduce those
#: fits (before ``binary_encoding``, two levels were one-hot columns). Unpickling
#: (:class:`SavedBeforeMixin`) and the safe format (:func:`with_saved_before`) fill them in.
SAVED_BEFORE = {"binary_encoding": "one-hot"}


def with_saved_before(params):
    """``params`` of a saved model, with :data:`SAVED_BEFORE` for what it lacks."""
    return {**SAVED_BEFORE, **params} if isinstance(params, dict) else params


class SavedBeforeMixin:
    """Unpickle estimators saved before a parameter existed with its old behaviour."""

    def __setstate__(self, state):
        super().__setstate__(with_saved_before(state))


def _is_frame(X):
    # on the type: a DataFrame builds its ``dtypes`` Series on every access. A Series
    # (no ``columns``) is not a table: check_array refuses it with sklearn's words.
    return hasattr(type(X), "iloc") and hasattr(type(X), "columns")


def check_table(estimator, X, reset):
    """Validate a table (DataFrame or array, NaN allowed) for ``estimator``.

    Arrays go through ``check_array`` with any dtype; frames keep their columns' dtypes.
    Sets (``reset=True``) or checks ``n_features_in_`` and ``feature_names_in_``.
    """
    if not _is_frame(X):
        X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
    elif X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"Found array with shape {X.shape} while a minimum of "
                         "1 sample and 1 feature is required.")
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    return X


def _transform_blocks(ct, X):
    """``ct.transform(X)`` for a preprocessor's fitted ColumnTransformer, made cheaper.

    The same array bit for bit, without the ColumnTransformer's per-block selection and
    validation, which take milliseconds on a small table where the arithmetic takes
    microseconds. ``X`` has passed :func:`check_table`. The numbers are converted and
    checked once, as the ``num`` pipeline's first ``check_array`` does (a string or
    ±inf raises the same ValueError), scaled by its fitted ``_RobustSmoothClip`` and
    filled with 0 (its ``SimpleImputer``); their indicators are ``np.isnan`` of the same
    values. The categorical pipelines, and the indicators of columns that are not
    floats at transform time (``MissingIndicator`` has rules of its own for integers,
    objects, booleans and pandas extension types), run on their columns as the
    ColumnTransformer runs them.
    """
    dtypes = list(X.dtypes) if _is_frame(X) else [X.dtype] * X.shape[1]
    blocks, numeric, values = [], None, None
    for name, tf, cols in ct.transformers_:
        if isinstance(tf, str) or not len(cols):  # a "drop" remainder, an empty block
            continue
        if name == "num":
            clip = tf.steps[0][1]
            numeric, values = cols, _numeric_values(X, cols, clip, dtypes)
            Z = clip._scale(values)
            Z[np.isnan(Z)] = 0.0  # the SimpleImputer's fill (Z is new: X stays as is)
            blocks.append(Z)
        elif name == "missing" and _has_kinds(dtypes, cols, "f"):
            blocks.append(np.isnan(values[:, np.searchsorted(numeric, cols)]))
        else:
            blocks.append(tf.transform(_take(X, cols)))
    return np.hstack(blocks) if blocks else np.zeros((X.shape[0], 0))


def _numeric_values(X, cols, step, dtypes):
    """Columns ``cols`` of ``X`` as float64, as ``step``'s ``check_array`` makes them.

    The same values, and the same memory layout as the ColumnTransformer's selection.
    """
    if not (_is_frame(X) and _has_kinds(dtypes, cols, "biuf")):
        sub = _take(X, cols)  # an array; object or pandas extension columns
    elif len(cols) < X.shape[1]:  # check_array's conversion, without its dtype checks
        sub = np.asarray(_take(X, cols), dtype=np.float64)
    else:  # all columns: pandas >= 3 would select them as a view; skip that ~0.1 ms
        sub = np.asarray(X, dtype=np.float64)
    return check_array(sub, dtype=np.float64, ensure_all_finite="allow-nan",
                       estimator=step, input_name="X")


def _has_kinds(dtypes, cols, kinds):
    """Whether the columns ``cols`` all have NumPy dtypes of these kinds."""
    return all(isinstance(dtypes[j], np.dtype) and dtypes[j].kind in kinds for j in cols)


def _take(X, cols):
    """Columns ``cols`` of a frame or an array, as the ColumnTransformer selects them."""
    return X.iloc[:, cols] if _is_frame(X) else X[:, cols]


class TabularPreprocessor(SavedBeforeMixin, TransformerMixin, BaseEstimator):
    """Turn a table of numbers and categories into network inputs, as RealMLP-TD does.

    Each input column is one of three kinds (``feature_kinds_``):

    - ``"numeric"``: every column that is not categorical (booleans included). Centred
      on its median, divided by its inter-quartile range (half its range where that is 0,
      and 0 for a constant column), then smoothly clipped,
      ``x / sqrt(1 + (x / clip)^2)``. A missing value becomes 0 (the median) and gets
      an indicator column, for the columns that have missing values in ``fit``;
    - ``"binary"``: a categorical column (pandas ``category``, ``object`` or string
      dtype, or a NumPy object or string array) with two levels in ``fit``, when
      ``binary_encoding="signed"``. One column: +1 for the first level (sorted as text),
      -1 for the second, 0 for a missing or unseen value (RealMLP-TD's encoding: half
      the columns of one-hot, and "unknown" halfway between the two). With
      ``scale_one_hot`` it is then scaled and clipped like a number;
    - ``"one-hot"``: any other categorical column with at most ``max_one_hot_levels``
      levels in ``fit``. One 0/1 column per level, plus one for "missing" if ``fit`` saw
      missing values; an unseen level (or an unseen missing value) is all zeros. With
      ``scale_one_hot`` these columns are then scaled and clipped like numbers;
    - ``"code"``: a categorical column with more levels. One column of integer codes for
      an embedding layer: 0 for missing or unseen, 1..k for the k levels seen in
      ``fit`` (sorted as text).

    Categories are compared as text (``1`` and ``"1"`` are one level).

    Parameters
    ----------
    max_one_hot_levels : int or None, default=8
        Categorical columns with at most this many levels (missing values not counted)
        are one-hot encoded (or signed, for two levels), the others coded. ``None``:
        no codes (every category one-hot, or signed for two levels). RealMLP-TD's
        ``max_one_hot_cat_size=9`` counts its slot for missing values, so it is 8 here.
    binary_encoding : {"signed", "one-hot"}, default="signed"
        How a categorical column with two levels is encoded: one +1 / -1 column (0 for
        missing or unseen), or two one-hot columns (plus one for missing) like other
        categories with few levels.
    clip : float or None, default=3.0
        Bound of the smooth clipping; ``None`` turns it off.
    scale_one_hot : bool, default=True
        Scale and clip the one-hot (and signed binary) columns too. RealMLP-TD joins
        them to the numeric columns before scaling, so a level that is rarer than 25 %
        becomes ``smooth_clip(2) = 1.664`` rather than 1.
    dtype : {"float64", "float32"}, default="float64"
        Dtype of the output (codes are exact in both).

    Attributes
    ----------
    column_transformer_ : ColumnTransformer
        The fitted scikit-learn transformers, in output order: ``num`` (scaled numbers),
        ``missing`` (their indicators), ``binary``, ``onehot``, ``code``.
    feature_kinds_ : ndarray of str, shape (n_features_in_,)
        ``"numeric"``, ``"binary"``, ``"one-hot"`` or ``"code"`` for each input column.
    code_columns_ : ndarray of int
        Positions in the output of the code columns (they come last).
    code_cardinalities_ : ndarray of int
        For each code column, the number of codes (levels seen in ``fit`` + 1); an
        embedding table needs this many rows.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` has them.

    See Also
    --------
    sklearn.preprocessing.RobustScaler : Robust scaling without RealMLP's rule for zero
        inter-quartile ranges.
    sklearn.preprocessing.OneHotEncoder, sklearn.preprocessing.OrdinalEncoder :
        The encoders used here.

    References
    ----------
    .. [1] D. Holzmüller, L. Grinsztajn and I. Steinwart, "Better by Default: Strong
       Pre-Tuned MLPs and Boosted Trees on Tabular Data", NeurIPS 2024.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sknumpy_mlp.tabular import TabularPreprocessor
    >>> X = pd.DataFrame({"age": [20.0, 30.0, np.nan, 50.0],
    ...                   "colour": pd.Categorical(["red", "blue", "green", None]),
    ...                   "member": ["yes", "no", None, "yes"]})
    >>> pre = TabularPreprocessor(scale_one_hot=False).fit(X)
    >>> pre.feature_kinds_.tolist()
    ['numeric', 'one-hot', 'binary']
    >>> pre.get_feature_names_out().tolist()
    ['num__age', 'missing__missingindicator_age', 'binary__member', \
'onehot__colour_blue', 'onehot__colour_green', 'onehot__colour_red', 'onehot__colour_nan']
    >>> pre.transform(X).round(3)
    array([[-0.651,  0.   , -1.   ,  0.   ,  0.   ,  1.   ,  0.   ],
           [ 0.   ,  0.   ,  1.   ,  1.   ,  0.   ,  0.   ,  0.   ],
           [ 0.   ,  1.   ,  0.   ,  0.   ,  1.   ,  0.   ,  0.   ],
           [ 1.218,  0.   , -1.   ,  0.   ,  0.   ,  0.   ,  1.   ]])
    """

    _parameter_constraints = {
        "max_one_hot_levels": [Interval(Integral, 0, None, closed="left"), None],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
        "binary_encoding": [StrOptions({"signed", "one-hot"})],
        "scale_one_hot": ["boolean"],
        "dtype": [StrOptions({"float64", "float32"}), Options(type, {np.float64,
                                                                     np.float32})],
    }

    def __init__(self, *, max_one_hot_levels=8, binary_encoding="signed", clip=3.0,
                 scale_one_hot=True, dtype="float64"):
        self.max_one_hot_levels = max_one_hot_levels
        self.binary_encoding = binary_encoding
        self.clip = clip
        self.scale_one_hot = scale_one_hot
        self.dtype = dtype

    def fit(self, X, y=None):
        """Learn medians, quartiles and levels from ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table; see the class docstring for how column kinds are found.
        y : None
            Ignored.

        Returns
        -------
        self : TabularPreprocessor
            The fitted transformer.
        """
        self.fit_transform(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)  # inner ones get valid params
    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return its transformed values.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table.
        y : None
            Ignored.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Columns as described by ``get_feature_names_out()``.
        """
        X = self._check_input(X, reset=True)
        kinds = self._column_kinds(X)
        self.column_transformer_ = ColumnTransformer(
            self._transformers(X, kinds), sparse_threshold=0)
        out = self.column_transformer_.fit_transform(X)
        self.feature_kinds_ = kinds
        codes = self.column_transformer_.named_transformers_.get("code")
        if codes is None:
            self.code_cardinalities_ = np.zeros(0, dtype=np.intp)
        else:
            encoder = codes.named_steps["ordinalencoder"]
            self.code_cardinalities_ = np.array(
                [1 + sum(not _isna(c) for c in cats) for cats in encoder.categories_],
                dtype=np.intp)
        n_out = out.shape[1]
        self.code_columns_ = np.arange(n_out - len(self.code_cardinalities_), n_out)
        return out.astype(self.dtype, copy=False)

    def transform(self, X):
        """Encode ``X`` with what ``fit`` learnt; unseen categories do not fail.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Columns as described by ``get_feature_names_out()``.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        return _transform_blocks(self.column_transformer_, X).astype(self.dtype, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Output column names, prefixed by the block they belong to.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; by default ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        ndarray of str
            ``num__<col>``, ``missing__missingindicator_<col>``, ``binary__<col>``,
            ``onehot__<col>_<level>`` (``<level>`` is ``nan`` for missing) and
            ``code__<col>``, in output order.
        """
        check_is_fitted(self)
        return self.column_transformer_.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = [np.dtype(self.dtype).name]  # any input
        return tags

    # ------------------------------------------------------------------ helpers
    def _check_input(self, X, reset):
        return check_table(self, X, reset)

    def _column_kinds(self, X):
        """'numeric' or a categorical kind for each column; levels decide which one."""
        if _is_frame(X):
            categorical = np.array([_is_categorical_dtype(d) for d in X.dtypes], bool)
        else:
            categorical = np.full(X.shape[1], X.dtype.kind in "OUS")
        kinds = np.where(categorical, "one-hot", "numeric").astype(object)
        for j in np.flatnonzero(categorical):
            levels = {v for v in _as_text(_take(X, [j])).ravel() if isinstance(v, str)}
            kinds[j] = self._categorical_kind(len(levels))
        return kinds.astype(str)

    def _categorical_kind(self, n_levels):
        """The kind of a categorical column with ``n_levels`` levels (missing not counted).

        A saved column is checked against it too.
        """
        if self.max_one_hot_levels is not None and n_levels > self.max_one_hot_levels:
            return "code"
        return "binary" if n_levels == 2 and self.binary_encoding == "signed" else "one-hot"

    def _transformers(self, X, kinds):
        """The (name, transformer, columns) list, in output order; empty blocks left out."""
        numeric = np.flatnonzero(kinds == "numeric")
        with_missing = [j for j in numeric if _isna(_take(X, j)).any()]
        text = FunctionTransformer(_as_text, feature_names_out="one-to-one")
        onehot = [text, OneHotEncoder(handle_unknown="ignore", sparse_output=False)]
        binary = [text, OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                       encoded_missing_value=-1),
                  FunctionTransformer(_signed_codes, feature_names_out="one-to-one")]
        if self.scale_one_hot:
            onehot.append(_RobustSmoothClip(clip=self.clip))
            binary.append(_RobustSmoothClip(clip=self.clip))
        blocks = [
            ("num", make_pipeline(
                _RobustSmoothClip(clip=self.clip),
                SimpleImputer(strategy="constant", fill_value=0.0,
                              keep_empty_features=True)), numeric),
            ("missing", MissingIndicator(features="all"), with_missing),
            ("binary", make_pipeline(*binary), np.flatnonzero(kinds == "binary")),
            ("onehot", make_pipeline(*onehot), np.flatnonzero(kinds == "one-hot")),
            ("code", make_pipeline(
                text,
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                               encoded_missing_value=-1),
                FunctionTransformer(_shift_codes, feature_names_out="one-to-one")),
             np.flatnonzero(kinds == "code")),
        ]  # fmt: skip
        return [(name, tf, list(cols)) for name, tf, cols in blocks if len(cols)]
