"""Content-keyed randomness: dropout masks and the early-stopping hold-out."""

import numpy as np
import pytest

from sknumpy_mlp._layers import Dropout
from sknumpy_mlp._sampling import (
    bernoulli_threshold16,
    holdout_split,
    random_bits,
    random_uint16,
    row_keys,
)

KEYS = row_keys(np.random.RandomState(0).randn(3000, 5), salt=1)


def mask(keys, rate, step=0, layer=0, n_units=300):
    out = np.empty((len(keys), n_units))
    return Dropout(rate, n_units, key=layer).sample_mask(keys, step, out)


@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5, 0.8])
def test_dropout_drops_the_requested_fraction_and_rescales_the_rest(rate):
    m = mask(KEYS, rate)
    n = m.size
    dropped = np.mean(m == 0)
    assert abs(dropped - rate) < 5 * np.sqrt(rate * (1 - rate) / n)  # 5 sigma
    np.testing.assert_allclose(m[m > 0], 1 / (1 - rate), rtol=1e-4)


@pytest.mark.parametrize("rate", [1e-7, 0.1, 0.7, 0.99999])
def test_dropout_keeps_the_expected_activation_at_any_rate(rate):
    """E[mask] = 1: kept units are scaled by the drawn keep probability itself."""
    m = mask(KEYS, rate, n_units=2000)
    t = int(bernoulli_threshold16(rate))
    np.testing.assert_allclose(m[m > 0], 65536 / (65536 - t))
    keep = 1 - t / 65536
    sigma = np.sqrt((1 - keep) / keep / m.size)  # std of the mean of the mask
    assert abs(m.mean() - 1) < 5 * sigma + 1e-12


def test_a_rows_mask_depends_on_its_content_not_its_batch():
    full = mask(KEYS[:100], 0.3, step=7, layer=1)
    shuffled = np.random.RandomState(1).permutation(100)
    np.testing.assert_array_equal(mask(KEYS[shuffled], 0.3, step=7, layer=1),
                                  full[shuffled])
    np.testing.assert_array_equal(mask(KEYS[[5, 5]], 0.3, step=7, layer=1),
                                  full[[5, 5]])  # copies of a row: the same mask


def test_masks_change_with_step_and_layer_and_units_are_independent():
    base = mask(KEYS[:500], 0.5)
    for other in (mask(KEYS[:500], 0.5, step=1), mask(KEYS[:500], 0.5, layer=1)):
        assert 0.4 < np.mean((base == 0) != (other == 0)) < 0.6
    # neighbouring units come from the same 64-bit word; they must not agree more
    # often than chance
    agree = np.mean((base[:, 0::4] == 0) == (base[:, 1::4] == 0))
    assert 0.45 < agree < 0.55


def test_16_bit_draws_read_the_words_little_endian_on_every_machine():
    words = random_bits(KEYS[:10], step=3, layer=2, n_words=3)
    expected = np.stack([(words >> np.uint64(16 * k)) & np.uint64(0xFFFF)
                         for k in range(4)], axis=-1).reshape(10, 12)
    np.testing.assert_array_equal(random_uint16(KEYS[:10], 3, 2, 12), expected)
    np.testing.assert_array_equal(random_uint16(KEYS[:10], 3, 2, 10), expected[:, :10])


@pytest.mark.parametrize("rate, expected", [
    (0.0, 0), (1e-9, 0), (0.1, 6554), (1 / 3, 21845), (0.5, 32768),
    (0.99999, 65535), (1 - 1e-12, 65535),  # capped: some units always survive
])
def test_threshold_is_the_rate_rounded_to_the_nearest_65536th(rate, expected):
    assert int(bernoulli_threshold16(rate)) == expected


def test_row_keys_are_salted_content_hashes():
    X = np.random.RandomState(0).randn(4, 3)
    X[2] = X[0]
    keys = row_keys(X, salt=5)
    assert keys[0] == keys[2] and len(set(keys.tolist())) == 3
    assert not np.array_equal(keys, row_keys(X, salt=6))


def test_holdout_keeps_duplicates_together_and_respects_the_fraction():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 3)
    X[200:] = X[:200]  # every row twice
    strata = (np.arange(400) % 200 >= 100).astype(int)  # copies share a stratum
    train, val = holdout_split(X, strata, None, 0.25, salt=3)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 400
    in_val = np.isin(np.arange(400), val)
    np.testing.assert_array_equal(in_val[:200], in_val[200:])
    assert abs(len(val) / 400 - 0.25) < 0.03
