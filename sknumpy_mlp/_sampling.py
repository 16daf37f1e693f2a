"""Content-keyed randomness: the early-stopping hold-out and the dropout masks.

Both draw their randomness from a key per *row content* (a salted hash of the row's
bytes) instead of from the row's position. Two consequences a user can rely on:

- a sample with integer ``sample_weight`` w behaves exactly like w copies of it: the
  copies land on the same side of the hold-out split and, in the same step, draw the
  same dropout mask (scikit-learn's ``check_sample_weight_equivalence`` holds, and the
  hold-out of scikit-learn's own MLP has a TODO for exactly this);
- duplicated rows never straddle the training/validation split, so the validation
  score is not inflated by copies of training samples.

The salt comes from the estimator's ``random_state``, so everything stays reproducible.
"""

import hashlib

import numpy as np
from scipy import sparse

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def row_keys(X, salt):
    """One 64-bit key per row: a salted BLAKE2 hash of the row's content."""
    key = int(salt).to_bytes(8, "little")
    if sparse.issparse(X):
        X = sparse.csr_matrix(X, copy=True)
        X.eliminate_zeros()
        X.sort_indices()
        rows = (X.indices[a:b].tobytes() + X.data[a:b].tobytes()
                for a, b in zip(X.indptr[:-1], X.indptr[1:]))
    else:
        rows = (row.tobytes() for row in np.ascontiguousarray(X))
    digests = (hashlib.blake2b(r, digest_size=8, key=key).digest() for r in rows)
    return np.frombuffer(b"".join(digests), dtype=np.uint64).copy()


def _splitmix64(x, tmp=None):
    """The SplitMix64 finalizer, in place on a uint64 array (Steele et al., 2014).

    ``tmp`` (same shape) spares the allocation of the shifted copies.
    """
    tmp = np.empty_like(x) if tmp is None else tmp
    with np.errstate(over="ignore"):  # the multiplications wrap around by design
        x ^= np.right_shift(x, np.uint64(30), out=tmp)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= np.right_shift(x, np.uint64(27), out=tmp)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= np.right_shift(x, np.uint64(31), out=tmp)
    return x


def random_bits(keys, step, layer, n_words, out=None, tmp=None):
    """Counter-based random 64-bit words of shape ``(len(keys), n_words)``.

    Word ``(i, j)`` depends only on ``(keys[i], step, layer, j)``, like a Philox-style
    counter generator: the same row at the same step gets the same bits whatever batch
    it sits in. ``out`` and ``tmp`` are optional uint64 buffers of that shape.
    """
    with np.errstate(over="ignore"):
        counter = (np.uint64(step) * _GOLDEN
                   + np.uint64(layer) * np.uint64(0xD1B54A32D192ED03))
        units = _splitmix64(np.arange(n_words, dtype=np.uint64) + counter)
    out = np.empty((len(keys), n_words), dtype=np.uint64) if out is None else out
    np.bitwise_xor(keys[:, None], units, out=out)
    return _splitmix64(out, tmp)


def words_for_uint16(n_units):
    """How many 64-bit words hold ``n_units`` 16-bit draws: four per word, rounded up."""
    return -(-n_units // 4)


def random_uint16(keys, step, layer, n_units, out=None, tmp=None):
    """Counter-based uniform 16-bit draws of shape ``(len(keys), n_units)``.

    Each 64-bit word of :func:`random_bits` yields four draws, so a dropout mask costs a
    quarter of the hashing. The words are read as little-endian on every machine, so a
    seed gives the same draws everywhere. ``out``/``tmp``: uint64 buffers of shape
    ``(len(keys), words_for_uint16(n_units))``.
    """
    words = random_bits(keys, step, layer, words_for_uint16(n_units), out, tmp)
    return words.astype("<u8", copy=False).view("<u2")[:, :n_units]


def bernoulli_threshold16(rate):
    """The 16-bit t such that a draw below t, of probability ``t / 65536``, means "drop".

    ``rate`` is rounded to the nearest multiple of 1/65536 (off by at most 7.7e-6),
    and kept below 1 so that some units always survive.
    """
    return np.uint16(min(round(rate * 65536), 65535))


def holdout_split(X, strata, sample_weight, fraction, salt):
    """Indices ``(train, validation)``: stratified, weight-aware, duplicates kept together.

    Within each stratum (class), distinct rows are ordered by their salted key, a
    uniformly random order, and taken into the validation set until they hold
    ``fraction`` of the stratum's total weight. A stratum with a single distinct row
    stays in training.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    strata : ndarray of shape (n_samples,) or None
        Class labels to stratify on (None: one stratum).
    sample_weight : ndarray of shape (n_samples,) or None
    fraction : float
    salt : int
    """
    n = X.shape[0]
    keys = row_keys(X, salt)
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    strata = np.zeros(n, dtype=int) if strata is None else strata
    is_val = np.zeros(n, dtype=bool)
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        groups, inverse = np.unique(keys[rows], return_inverse=True)  # sorted by key
        group_weight = np.bincount(inverse, weights=weight[rows], minlength=len(groups))
        # Zero-weight rows do not exist for the weighted objective: they must not move
        # the split (they would not be there if the data were repeated instead).
        positive = group_weight > 0
        if positive.sum() < 2:
            continue
        before = np.cumsum(group_weight) - group_weight
        take = (before < fraction * group_weight.sum()) & positive
        take[np.argmax(positive)] = True  # at least one group validated ...
        take[len(positive) - 1 - np.argmax(positive[::-1])] = False  # ... one trained
        is_val[rows[take[inverse]]] = True
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)
