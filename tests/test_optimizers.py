import math
import pickle
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from sknumpy_mlp import _optimizers
from sknumpy_mlp._optimizers import SGD, SOLVERS, Adam, AdamW, RMSProp, make_optimizer

# Two weight matrices then two intercept vectors: the order of the flat buffer.
SHAPES = [(5, 4), (4, 3), (4,), (3,)]
N_PARAMS = sum(int(np.prod(s)) for s in SHAPES)
N_STEPS = 5
OPTIMIZER_NAMES = ["sgd", "adam", "adamw", "rmsprop"]
#: AdamW as the tabular trainer builds it.
TABULAR_ADAMW = dict(n_decay=None, lr_factors="random", wd_factors="random",
                     bias_correction="moments")
#: Each solver as the estimators build it, and the tabular AdamW.
OPTIMIZER_CASES = [*((name, {}) for name in OPTIMIZER_NAMES), ("adamw", TABULAR_ADAMW)]
CASE_IDS = [*OPTIMIZER_NAMES, "adamw-tabular"]


def _split(flat):
    out, start = [], 0
    for shape in SHAPES:
        size = int(np.prod(shape))
        out.append(flat[start : start + size].reshape(shape).copy())
        start += size
    return out


def _flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def _grads(rng, n_steps=N_STEPS, n=N_PARAMS, dtype=np.float64):
    return [rng.standard_normal(n).astype(dtype) for _ in range(n_steps)]


#: Options no estimator parameter reaches (the tabular trainer sets them).
FACTOR_OPTIONS = ("lr_factors", "wd_factors", "bias_correction")


def _factors(kind, n, dtype):
    """Per-parameter factors: learning-rate factors around 1, decay factors 0, 1 or 2."""
    rng = np.random.default_rng(10)
    if kind == "lr":
        return rng.uniform(0.1, 4.0, n).astype(dtype)
    return rng.choice(np.array([0.0, 1.0, 2.0], dtype=dtype), n)


def _make(name, n=N_PARAMS, dtype=np.float64, **overrides):
    """``make_optimizer(name, ...)``, or with ``FACTOR_OPTIONS`` the class directly."""
    extra = {key: overrides.pop(key) for key in FACTOR_OPTIONS if key in overrides}
    for key in ("lr_factors", "wd_factors"):
        if isinstance(extra.get(key), str):
            extra[key] = _factors(key[:2], n, dtype)
    kwargs = dict(
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.01,
        n_decay=n // 2,
    )
    kwargs.update(overrides)
    if not extra:
        return make_optimizer(name, n, dtype, **kwargs)
    solver = SOLVERS[name]
    return solver.optimizer(
        n, dtype, **{key: kwargs[param] for param, key in solver.reads.items()}, **extra
    )


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_sklearn(nesterov, momentum):
    rng = np.random.default_rng(0)
    params = rng.standard_normal(N_PARAMS)
    sk_params = _split(params)
    lr = 0.05
    sk_opt = SGDOptimizer(
        sk_params, learning_rate_init=lr, momentum=momentum, nesterov=nesterov
    )
    opt = SGD(N_PARAMS, np.float64, momentum=momentum, nesterov=nesterov)
    for g in _grads(rng):
        sk_opt.update_params(sk_params, _split(g))
        opt.step(params, g, lr)
        assert_allclose(params, _flat(sk_params), rtol=1e-12)
    assert_allclose(opt.velocity, _flat(sk_opt.velocities), rtol=1e-12)


def test_adam_matches_sklearn():
    rng = np.random.default_rng(1)
    params = rng.standard_normal(N_PARAMS)
    sk_params = _split(params)
    lr = 0.01
    sk_opt = AdamOptimizer(
        sk_params, learning_rate_init=lr, beta_1=0.8, beta_2=0.99, epsilon=1e-7
    )
    opt = Adam(N_PARAMS, np.float64, beta_1=0.8, beta_2=0.99, epsilon=1e-7)
    for g in _grads(rng):
        sk_opt.update_params(sk_params, _split(g))
        opt.step(params, g, lr)
        assert_allclose(params, _flat(sk_params), rtol=1e-12)
    assert opt.t == sk_opt.t == N_STEPS
    assert_allclose(opt.m, _flat(sk_opt.ms), rtol=1e-12)
    assert_allclose(opt.v, _flat(sk_opt.vs), rtol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_float32_stays_float32(name):
    rng = np.random.default_rng(2)
    params = rng.standard_normal(N_PARAMS).astype(np.float32)
    opt = _make(name, dtype=np.float32)
    for g in _grads(rng, dtype=np.float32):
        opt.step(params, g, 0.01)
    assert params.dtype == np.float32
    assert np.all(np.isfinite(params))
    for value in opt.state_dict().values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32


@pytest.mark.parametrize(("name", "overrides"), OPTIMIZER_CASES, ids=CASE_IDS)
def test_step_allocates_nothing(name, overrides):
    n = 100_000
    rng = np.random.default_rng(3)
    params = rng.standard_normal(n)
    grads = rng.standard_normal(n)
    opt = _make(name, n=n, **overrides)
    opt.step(params, grads, 0.01)
    buffers_before = {k: id(v) for k, v in vars(opt).items()}
    address = params.ctypes.data

    tracemalloc.start()
    try:
        for _ in range(3):
            opt.step(params, grads, 0.01)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # No data-sized temporaries: a single one would be 800 kB here. What remains are the
    # small view objects of the cache-sized chunks (a few hundred bytes each).
    assert peak < 0.01 * params.nbytes
    assert params.ctypes.data == address
    for key, value in vars(opt).items():
        if isinstance(value, np.ndarray):
            assert id(value) == buffers_before[key]


def test_adamw_decays_only_first_n_decay_entries():
    rng = np.random.default_rng(4)
    params = rng.standard_normal(N_PARAMS)
    expected = params.copy()
    n_decay, lr, wd = 20, 0.1, 0.5
    opt = AdamW(N_PARAMS, np.float64, weight_decay=wd, n_decay=n_decay)
    # Zero gradients make the Adam part a no-op, leaving only the decay.
    opt.step(params, np.zeros(N_PARAMS), lr)
    expected[:n_decay] *= 1 - lr * wd
    assert_array_equal(params, expected)


@pytest.mark.parametrize("n_decay", [None, 0, 20])
def test_adamw_is_decay_then_adam(n_decay):
    rng = np.random.default_rng(5)
    params = rng.standard_normal(N_PARAMS)
    ref_params = params.copy()
    lr, wd = 0.01, 0.1
    opt = AdamW(N_PARAMS, np.float64, weight_decay=wd, n_decay=n_decay)
    ref = Adam(N_PARAMS, np.float64)
    stop = N_PARAMS if n_decay is None else n_decay
    for g in _grads(rng):
        opt.step(params, g, lr)
        ref_params[:stop] *= 1 - lr * wd
        ref.step(ref_params, g, lr)
    assert_array_equal(params, ref_params)


def test_adamw_without_decay_equals_adam():
    rng = np.random.default_rng(6)
    params = rng.standard_normal(N_PARAMS)
    adam_params = params.copy()
    opt = AdamW(N_PARAMS, np.float64, weight_decay=0.0, n_decay=10)
    adam = Adam(N_PARAMS, np.float64)
    for g in _grads(rng):
        opt.step(params, g, 0.01)
        adam.step(adam_params, g, 0.01)
    assert_array_equal(params, adam_params)


def test_adamw_rejects_bad_n_decay():
    with pytest.raises(ValueError, match="n_decay"):
        AdamW(10, np.float64, n_decay=11)


def test_adam_rejects_bad_factors_and_bias_correction():
    with pytest.raises(ValueError, match="lr_factors has shape"):
        Adam(10, np.float64, lr_factors=np.ones(9))
    with pytest.raises(ValueError, match="wd_factors has shape"):
        AdamW(10, np.float64, wd_factors=np.ones((10, 1)))
    with pytest.raises(ValueError, match="not both"):
        AdamW(10, np.float64, n_decay=5, wd_factors=np.ones(10))
    with pytest.raises(ValueError, match="bias_correction"):
        Adam(10, np.float64, bias_correction="none")


def test_unit_factors_change_nothing():
    # Factors of 1 (decay factors of 1 on the weights, 0 elsewhere) are plain AdamW.
    rng = np.random.default_rng(11)
    params = rng.standard_normal(N_PARAMS)
    plain_params = params.copy()
    n_decay = 20
    wd_factors = (np.arange(N_PARAMS) < n_decay).astype(float)
    opt = AdamW(N_PARAMS, np.float64, lr_factors=np.ones(N_PARAMS), wd_factors=wd_factors)
    plain = AdamW(N_PARAMS, np.float64, n_decay=n_decay)
    for g in _grads(rng):
        opt.step(params, g, 0.01)
        plain.step(plain_params, g, 0.01)
    assert_array_equal(params, plain_params)


def test_moments_correction_is_algorithm_1():
    # Kingma & Ba's Algorithm 1 as written, with per-parameter learning rates.
    rng = np.random.default_rng(12)
    params = rng.standard_normal(N_PARAMS)
    ref_params = params.copy()
    b1, b2, eps, lr = 0.9, 0.95, 1e-3, 0.01  # a large eps: where it sits shows
    f = _factors("lr", N_PARAMS, np.float64)
    opt = Adam(N_PARAMS, np.float64, beta_1=b1, beta_2=b2, epsilon=eps, lr_factors=f,
               bias_correction="moments")
    m = v = np.zeros(N_PARAMS)
    for t, g in enumerate(_grads(rng), start=1):
        opt.step(params, g, lr)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        ref_params = ref_params - lr * f * m_hat / (np.sqrt(v_hat) + eps)
        assert_allclose(params, ref_params, rtol=1e-12)


def test_adamw_step_weight_decay_overrides_the_coefficient():
    rng = np.random.default_rng(13)
    params = rng.standard_normal(N_PARAMS)
    fixed_params = params.copy()
    scheduled = AdamW(N_PARAMS, np.float64, weight_decay=0.5, n_decay=20)
    fixed = AdamW(N_PARAMS, np.float64, weight_decay=0.1, n_decay=20)
    for g in _grads(rng):
        scheduled.step(params, g, 0.01, weight_decay=0.1)
        fixed.step(fixed_params, g, 0.01)
    assert_array_equal(params, fixed_params)
    assert scheduled.weight_decay == 0.5


def test_rmsprop_matches_reference():
    rng = np.random.default_rng(7)
    params = rng.standard_normal(N_PARAMS)
    ref_params = params.copy()
    rho, eps, lr = 0.9, 1e-8, 0.01
    opt = RMSProp(N_PARAMS, np.float64, rho=rho, epsilon=eps)
    v = np.zeros(N_PARAMS)
    for t, g in enumerate(_grads(rng), start=1):
        opt.step(params, g, lr)
        v = rho * v + (1 - rho) * g**2
        v_hat = v / (1 - rho**t)
        ref_params = ref_params - lr * g / (np.sqrt(v_hat) + eps)
        assert_allclose(params, ref_params, rtol=1e-12)
    assert opt.t == N_STEPS


def test_rmsprop_first_step_is_normalised():
    # With bias correction the first step is lr * sign(g), not lr / sqrt(1 - rho).
    params = np.zeros(3)
    g = np.array([2.0, -0.5, 1e-3])
    RMSProp(3, np.float64, rho=0.999, epsilon=0.0).step(params, g, 0.1)
    assert_allclose(params, -0.1 * np.sign(g), rtol=1e-12)


@pytest.mark.parametrize(("name", "overrides"), OPTIMIZER_CASES, ids=CASE_IDS)
def test_state_dict_round_trip_resumes_identically(name, overrides, tmp_path):
    rng = np.random.default_rng(8)
    params = rng.standard_normal(N_PARAMS)
    grads = _grads(rng, n_steps=6)
    opt = _make(name, nesterovs_momentum=name == "sgd", **overrides)
    for g in grads[:3]:
        opt.step(params, g, 0.01)

    np.savez(tmp_path / "state.npz", **opt.state_dict())
    with np.load(tmp_path / "state.npz") as saved:
        loaded = {k: saved[k] for k in saved.files}
    resumed = _make(name, **overrides)
    resumed.load_state_dict(loaded)
    unpickled = pickle.loads(pickle.dumps(opt))
    resumed_params, unpickled_params = params.copy(), params.copy()

    for g in grads[3:]:
        opt.step(params, g, 0.01)
        resumed.step(resumed_params, g, 0.01)
        unpickled.step(unpickled_params, g, 0.01)
    assert_array_equal(resumed_params, params)
    assert_array_equal(unpickled_params, params)
    kept = set(opt.__getstate__())
    assert not kept & {"_buf", "_update", "_scalar_buf", "_scalar_views"}


def test_state_dict_returns_copies():
    opt = Adam(4, np.float64)
    state = opt.state_dict()
    state["m"][:] = 1.0
    assert_array_equal(opt.m, 0.0)


def test_load_state_dict_checks_shape_and_keys():
    opt = SGD(4, np.float64)
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict({"velocity": np.zeros(5)})
    with pytest.raises(KeyError, match="velocity"):
        opt.load_state_dict({})


def test_make_optimizer_builds_each_solver():
    assert type(_make("sgd")) is SGD
    assert type(_make("adam")) is Adam
    adamw = _make("adamw", weight_decay=0.2, n_decay=7)
    assert type(adamw) is AdamW
    assert (adamw.weight_decay, adamw.n_decay) == (0.2, 7)
    rmsprop = _make("rmsprop", beta_2=0.95)
    assert type(rmsprop) is RMSProp
    assert rmsprop.rho == 0.95
    assert _make("sgd", nesterovs_momentum=False, momentum=0.5).nesterov is False
    with pytest.raises(ValueError, match="Unknown optimizer"):
        _make("lbfgs")


def test_rejects_integer_dtype():
    with pytest.raises(ValueError, match="floating"):
        SGD(3, np.int64)


# ----------------------------------------------------- the plain reference versions
# Each optimizer's step as the formula in its docstring, on whole arrays, with the same
# elementwise operations in the same order (e.g. ``lr_t * m / d`` is ``(lr_t * m) / d``).
# The fast steps (blocks, out= buffers, 0-d scalars) must equal these bit for bit.
def reference_sgd(opt, state, params, g, lr):
    v = state["velocity"] = opt.momentum * state["velocity"] - lr * g
    update = opt.momentum * v - lr * g if opt.nesterov else v
    return params + update


def reference_adam(opt, state, params, g, lr, weight_decay=None):
    """Adam, and AdamW's decay before it: of ``params[:n_decay]``, or by ``wd_factors``."""
    params = params.copy()
    wd = getattr(opt, "weight_decay", 0.0) if weight_decay is None else weight_decay
    if wd and opt.wd_factors is not None:
        params = params * (1.0 - lr * wd * opt.wd_factors)
    elif wd:
        params[: opt.n_decay] *= 1.0 - lr * wd
    b1, b2, t = opt.beta_1, opt.beta_2, state["t"] + 1
    m = b1 * state["m"] + (1 - b1) * g
    v = b2 * state["v"] + (1 - b2) * g**2
    f = 1.0 if opt.lr_factors is None else opt.lr_factors
    state.update(t=t, m=m, v=v)
    if opt.bias_correction == "moments":
        # v_hat = v / (1 - b2**t) under the root; m_hat's 1 / (1 - b1**t) joins lr.
        v_hat_root = np.sqrt(v) / math.sqrt(1 - b2**t)
        return params - m / (v_hat_root + opt.epsilon) * f * (lr / (1 - b1**t))
    lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    return params - lr_t * m / (np.sqrt(v) + opt.epsilon) * f


def reference_rmsprop(opt, state, params, g, lr):
    rho, t = opt.rho, state["t"] + 1
    v = rho * state["v"] + (1 - rho) * g**2
    v_hat = v / (1 - rho**t)
    state.update(t=t, v=v)
    return params - g / (np.sqrt(v_hat) + opt.epsilon) * lr


REFERENCE = {
    SGD: reference_sgd,
    Adam: reference_adam,
    AdamW: reference_adam,
    RMSProp: reference_rmsprop,
}


def reference_step(opt, state, params, g, lr, **kwargs):
    """``opt``'s step, plainly: new params; ``state`` (t, m, v, velocity) updated.

    ``kwargs``: AdamW's ``weight_decay`` of this step, when it follows a schedule.
    """
    return REFERENCE[type(opt)](opt, state, params, g, lr, **kwargs)


def _assert_same_bits(actual, expected):
    assert actual.dtype == expected.dtype
    assert actual.tobytes() == expected.tobytes()  # unlike ==, tells -0.0 from 0.0


def _block(dtype):
    return _optimizers.BLOCK_BYTES // np.dtype(dtype).itemsize


def _sizes(dtype):
    """One block (a small net), several blocks with a ragged end, a block exactly."""
    return {"one": N_PARAMS, "several": 2 * _block(dtype) + 77, "exact": _block(dtype)}


REFERENCE_CASES = [
    ("sgd", dict(nesterovs_momentum=True)),
    ("sgd", dict(nesterovs_momentum=False)),
    ("sgd", dict(momentum=0.0)),
    ("adam", {}),
    ("adam", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-7)),
    ("adamw", dict(n_decay=None)),
    ("adamw", dict(n_decay=0)),
    ("adamw", dict(n_decay="mid-block")),
    ("adamw", dict(n_decay="block edge")),
    ("adamw", dict(weight_decay=0.0)),
    ("adam", dict(lr_factors="random")),
    ("adam", dict(bias_correction="moments")),
    ("adam", dict(lr_factors="random", bias_correction="moments")),
    ("adamw", dict(n_decay="mid-block", lr_factors="random")),
    ("adamw", dict(n_decay=None, wd_factors="random")),
    # The tabular trainer's: every factor, corrected moments, a scheduled decay.
    ("adamw", dict(n_decay=None, lr_factors="random", wd_factors="random",
                   bias_correction="moments", weight_decay="scheduled")),
    ("rmsprop", {}),
    ("rmsprop", dict(beta_2=0.9)),
]


@pytest.mark.parametrize("size", ["one", "several", "exact"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "overrides"),
    REFERENCE_CASES,
    ids=[
        f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
        for name, kw in REFERENCE_CASES
    ],
)
def test_step_equals_reference_bit_for_bit(name, overrides, dtype, size):
    n = _sizes(dtype)[size]
    overrides = dict(overrides)
    if overrides.get("n_decay") == "mid-block":
        overrides["n_decay"] = n // 2 + 3
    elif overrides.get("n_decay") == "block edge":
        overrides["n_decay"] = min(n, _block(dtype))
    scheduled = overrides.get("weight_decay") == "scheduled"
    if scheduled:
        overrides["weight_decay"] = 0.05
    rng = np.random.default_rng(9)
    params = rng.standard_normal(n).astype(dtype)
    ref_params = params.copy()
    opt = _make(name, n=n, dtype=dtype, **overrides)
    state = opt.state_dict()  # copies: t, m, v or velocity
    lrs, wds = [0.01, 0.003, 0.02, 0.001], [0.02, 0.1, 0.0, 0.03]
    for lr, wd, g in zip(lrs, wds, _grads(rng, 4, n, dtype)):
        g[::17] = 0.0  # exact zeros: sqrt(0) + eps and 0 / d in the mix
        kwargs = {"weight_decay": wd} if scheduled else {}
        opt.step(params, g, lr, **kwargs)
        ref_params = reference_step(opt, state, ref_params, g, lr, **kwargs)
        _assert_same_bits(params, ref_params)
    for key, value in opt.state_dict().items():
        if isinstance(value, np.ndarray):
            _assert_same_bits(value, state[key])
        else:
            assert value == state[key]


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_step_handles_an_empty_buffer(name):
    opt = _make(name, n=0)
    params = np.zeros(0)
    opt.step(params, np.zeros(0), 0.01)
    assert params.shape == (0,)
