"""The tables of names, and everything that should follow them.

Each kind of choice (activations, solvers, learning rates, initializers, heads, layers)
is one table where its entries are defined; the parameter constraints, the CLI, the
optimizer construction, the skops trusted types, persistence and ONNX read it. These
tests fail when an entry added to a table is missing from one of those places.
"""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

import sknumpy_mlp._base as base_module
import sknumpy_mlp._estimator as estimator_module
from sknumpy_mlp import MLPScratchClassifier, MLPScratchRegressor
from sknumpy_mlp.__main__ import build_parser, describe
from sknumpy_mlp._activations import ACTIVATIONS, Activation
from sknumpy_mlp._base import SHARED_CONSTRAINTS
from sknumpy_mlp._initializers import INITIALIZERS
from sknumpy_mlp._layers import LAYERS
from sknumpy_mlp._lbfgs import fit_lbfgs
from sknumpy_mlp._losses import CLASSIFICATION_HEADS, get_loss
from sknumpy_mlp._network import mlp_layers
from sknumpy_mlp._optimizers import SOLVERS, make_optimizer
from sknumpy_mlp._persistence import _REGRESSION_OUTPUTS, SKOPS_TRUSTED_TYPES
from sknumpy_mlp._regression_losses import REGRESSION_HEADS
from sknumpy_mlp._schedules import LEARNING_RATES, SCHEDULES, LearningRate
from sknumpy_mlp._stopping import Plateau

ESTIMATORS = [MLPScratchClassifier, MLPScratchRegressor]
STOCHASTIC = [name for name, solver in SOLVERS.items() if solver.stochastic]


def _options(cls, parameter):
    """The names a ``StrOptions`` constraint of ``cls`` accepts."""
    (constraint,) = cls._parameter_constraints[parameter]
    return set(constraint.options)


def _cli_choices(option):
    return list(build_parser()._option_string_actions[option].choices)


def _path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


# ----------------------------------------------------------------- the constraints
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("parameter, table", [
    ("activation", ACTIVATIONS), ("solver", SOLVERS), ("learning_rate", LEARNING_RATES),
    ("weight_init", INITIALIZERS)])
def test_constraints_accept_exactly_the_table(cls, parameter, table):
    assert _options(cls, parameter) == set(table)


def test_regressor_loss_constraint_is_the_head_table():
    assert _options(MLPScratchRegressor, "loss") == set(REGRESSION_HEADS)


@pytest.mark.parametrize("sk_cls, parameter, table", [
    (MLPClassifier, "activation", ACTIVATIONS), (MLPClassifier, "solver", SOLVERS),
    (MLPClassifier, "learning_rate", LEARNING_RATES),
    (MLPRegressor, "loss", REGRESSION_HEADS)])
def test_tables_cover_every_sklearn_value(sk_cls, parameter, table):
    """A drop-in accepts every value scikit-learn does."""
    if parameter not in sk_cls._parameter_constraints:
        pytest.skip(f"this scikit-learn has no {parameter}")
    (constraint,) = sk_cls._parameter_constraints[parameter]
    assert set(constraint.options) <= set(table)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_solver_and_rate_parameters_are_estimator_parameters(cls):
    params = cls().get_params()
    for solver in SOLVERS.values():
        assert set(solver.parameters) <= set(params) & set(SHARED_CONSTRAINTS)
    for rate in LEARNING_RATES.values():
        assert set(rate.reads) <= set(params)


# ------------------------------------------------------------------------ solvers
def test_stochastic_solvers_follow_the_table():
    assert base_module.STOCHASTIC_SOLVERS == tuple(STOCHASTIC)
    # the old import paths
    assert estimator_module.STOCHASTIC_SOLVERS == tuple(STOCHASTIC)
    assert estimator_module._STOCHASTIC_SOLVERS == tuple(STOCHASTIC)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_make_optimizer_builds_every_stochastic_solver(name):
    solver = SOLVERS[name]
    keywords = set(inspect.signature(solver.optimizer).parameters)
    assert set(solver.reads.values()) <= keywords
    values = {param: 0.5 + i / 100 for i, param in enumerate(solver.parameters)}
    values.update(nesterovs_momentum=False, n_decay=3)
    optimizer = make_optimizer(name, 6, np.float64, **values)
    assert type(optimizer) is solver.optimizer
    for param, keyword in solver.reads.items():  # each value reaches its keyword
        assert getattr(optimizer, keyword) == values[param]


def test_full_batch_solvers_have_their_own_fit():
    full_batch = [name for name, solver in SOLVERS.items() if not solver.stochastic]
    assert full_batch == ["lbfgs"]
    assert set(SOLVERS["lbfgs"].reads.values()) <= set(inspect.signature(fit_lbfgs)
                                                       .parameters)
    with pytest.raises(ValueError, match="Unknown optimizer 'lbfgs'"):
        make_optimizer("lbfgs", 4, np.float64)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("name", list(SOLVERS))
def test_every_solver_fits_and_partial_fit_follows_the_table(cls, name):
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((40, 3)), np.arange(40) % 2
    est = cls(hidden_layer_sizes=(4,), solver=name, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two epochs may not converge
        est.fit(X, y)
    optimizer = getattr(est, "_optimizer", None)
    assert type(optimizer) is (SOLVERS[name].optimizer or type(None))
    assert hasattr(est, "partial_fit") == SOLVERS[name].stochastic


# --------------------------------------------------------------- learning rates
def test_learning_rates_name_known_schedules_and_solvers():
    for rate in LEARNING_RATES.values():
        assert rate.decay in SCHEDULES
        assert rate.solvers is None or set(rate.solvers) <= set(STOCHASTIC)
        assert rate.epoch_rule is None or callable(rate.epoch_rule)


@pytest.mark.parametrize("name", list(LEARNING_RATES))
@pytest.mark.parametrize("solver", STOCHASTIC)
def test_learning_rate_follows_its_entry(name, solver):
    entry = LEARNING_RATES[name]
    acts = entry.solvers is None or solver in entry.solvers
    rate = LearningRate(name, 0.1, solver=solver, power_t=0.5, max_iter=10,
                        warmup_iter=0)
    assert rate.at(5) == SCHEDULES[entry.decay](0.1, 5, 10)
    assert Plateau.applies(rate) == (acts and entry.plateau)
    rate.epoch_end(t_samples=99)
    moved = acts and entry.epoch_rule is not None
    assert rate.base == (entry.epoch_rule(0.1, 99, 0.5) if moved else 0.1)


# ---------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("option, table", [
    ("--activation", ACTIVATIONS), ("--solver", SOLVERS),
    ("--learning-rate", LEARNING_RATES)])
def test_cli_offers_every_table_entry(option, table):
    assert _cli_choices(option) == list(table)
    help_text = build_parser()._option_string_actions[option].help
    assert all(name in help_text for name in table)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_cli_describes_weight_decay_where_a_solver_reads_it(name):
    args = build_parser().parse_args(["--solver", name])
    shown = "weight_decay=" in describe(args)
    assert shown == ("weight_decay" in SOLVERS[name].reads)


# ------------------------------------------------------------ activations, ONNX
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_has_an_onnx_form(name):
    act = ACTIVATIONS[name]
    assert act.name == name
    own = type(act).to_onnx is not Activation.to_onnx
    assert own or isinstance(getattr(act, "onnx_op", None), str)


def test_every_layer_is_registered_under_its_name_with_an_onnx_form():
    for name, cls in LAYERS.items():
        assert cls.name == name
        assert callable(cls.to_onnx)  # Layer's own: the identity, as for dropout


def test_every_regression_head_has_an_onnx_form():
    for cls in REGRESSION_HEADS.values():
        assert cls.onnx_op is None or isinstance(cls.onnx_op, str)


# ------------------------------------------------------------- heads, persistence
def test_head_tables_are_keyed_consistently():
    for out, cls in CLASSIFICATION_HEADS.items():
        assert cls.out_activation == out
    assert {type(get_loss(n, m)) for n in (1, 3) for m in (False, True)} == set(
        CLASSIFICATION_HEADS.values())
    assert set(_REGRESSION_OUTPUTS.values()) == set(REGRESSION_HEADS.values())


# The layers of the core estimators' networks; sknumpy_mlp.tabular registers its own in
# LAYERS when it is imported (sknumpy_mlp._persistence imports it: all are trusted).
CORE_LAYERS = [cls for cls in LAYERS.values()
               if not cls.__module__.startswith("sknumpy_mlp.tabular")]


def test_core_networks_are_built_from_the_core_layers():
    layers = mlp_layers([3, 4, 4, 2], "relu", batch_norm=True, dropout=[0.1, 0.1])
    assert {type(layer) for layer in layers} == set(CORE_LAYERS)


@pytest.mark.parametrize("cls", [
    *CLASSIFICATION_HEADS.values(), *REGRESSION_HEADS.values(), *LAYERS.values(),
    *(SOLVERS[name].optimizer for name in STOCHASTIC)], ids=_path)
def test_every_table_class_is_trusted_by_skops(cls):
    assert _path(cls) in SKOPS_TRUSTED_TYPES


@pytest.mark.parametrize("loss", list(REGRESSION_HEADS))
def test_regressor_refuses_negative_targets_where_its_head_says(loss):
    X, y = np.ones((4, 1)), np.array([-1.0, 0.0, 1.0, 2.0])
    est = MLPScratchRegressor(loss=loss, hidden_layer_sizes=(2,), solver="lbfgs",
                              max_iter=1)
    if REGRESSION_HEADS[loss].nonnegative_target:
        with pytest.raises(ValueError, match=f"loss='{loss}' needs non-negative"):
            est.fit(X, y)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
