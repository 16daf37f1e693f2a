import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from sknumpy_mlp._schedules import (
    SCHEDULES,
    constant,
    cosine,
    exponential,
    invscaling,
    learning_rate_at,
    warmup,
)

LR, TOTAL = 0.1, 20


@pytest.mark.parametrize("progress", [0, 3.5, TOTAL, 2 * TOTAL])
def test_constant_is_unchanged(progress):
    assert constant(LR, progress, TOTAL) == LR


def test_cosine_follows_formula():
    assert cosine(LR, 0, TOTAL) == LR
    assert_allclose(cosine(LR, TOTAL / 2, TOTAL), LR / 2, rtol=1e-12)
    assert_allclose(cosine(LR, TOTAL / 4, TOTAL), LR * (1 + math.sqrt(0.5)) / 2)
    assert abs(cosine(LR, TOTAL, TOTAL)) < 1e-15
    assert cosine(LR, 3 * TOTAL, TOTAL) == cosine(LR, TOTAL, TOTAL)
    values = [cosine(LR, p, TOTAL) for p in np.linspace(0, TOTAL, 41)]
    assert np.all(np.diff(values) < 0)


def test_exponential_follows_formula():
    assert exponential(LR, 0, TOTAL) == LR
    assert_allclose(exponential(LR, TOTAL / 2, TOTAL), LR * 0.1, rtol=1e-12)
    assert_allclose(exponential(LR, TOTAL, TOTAL), LR * 0.01, rtol=1e-12)
    assert exponential(LR, 3 * TOTAL, TOTAL) == exponential(LR, TOTAL, TOTAL)


@pytest.mark.parametrize("t_samples", [0, 1, 150, 10_000])
@pytest.mark.parametrize("power_t", [0.25, 0.5])
def test_invscaling_matches_sklearn(t_samples, power_t):
    sk_opt = SGDOptimizer(
        [np.zeros(1)], learning_rate_init=LR, lr_schedule="invscaling", power_t=power_t
    )
    sk_opt.iteration_ends(t_samples)
    assert invscaling(LR, t_samples, power_t) == sk_opt.learning_rate
    assert_allclose(invscaling(LR, t_samples, power_t), LR / (t_samples + 1) ** power_t)


def test_warmup_is_linear_positive_and_reaches_lr():
    w = 4
    first = warmup(LR, 0, w)
    assert first > 0
    assert_allclose(first, LR / (w + 1))
    progress = np.linspace(0, w, 17)
    values = np.array([warmup(LR, p, w) for p in progress])
    assert_allclose(np.diff(values, n=2), 0, atol=1e-15)
    assert np.all(values[:-1] < LR)
    assert_allclose(warmup(LR, w, w), LR, rtol=1e-15)
    assert warmup(LR, w + 0.5, w) == LR
    assert warmup(LR, 10 * w, w) == LR


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("progress", [0, 1.5, TOTAL / 2, TOTAL])
def test_learning_rate_at_without_warmup_is_the_schedule(name, progress):
    got = learning_rate_at(name, LR, progress, TOTAL)
    assert got == SCHEDULES[name](LR, progress, TOTAL)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("progress", [0, 0.25, 2, 3, 7])
def test_learning_rate_at_multiplies_warmup_and_unshifted_decay(name, progress):
    w = 3
    got = learning_rate_at(name, LR, progress, TOTAL, warmup_iter=w)
    factor = min(1.0, (progress + 1) / (w + 1))
    assert_allclose(got, factor * SCHEDULES[name](LR, progress, TOTAL), rtol=1e-12)
    assert got > 0


def test_learning_rate_at_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Unknown schedule"):
        learning_rate_at("adaptive", LR, 0, TOTAL)
    with pytest.raises(ValueError, match="warmup_iter"):
        learning_rate_at("constant", LR, 0, TOTAL, warmup_iter=-1)
