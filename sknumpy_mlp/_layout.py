"""Where every parameter lives: one flat buffer, laid out from the layers' declarations.

Each layer declares its parameters (:class:`Param`: a name, a shape and a *kind*) and its
non-trained state (batch norm's running statistics). :class:`Layout` places them in one
flat vector, grouped by kind in the order of :data:`KINDS`, then by layer::

    [ W_0 | W_1 | ... | W_L | b_0 | b_1 | ... | b_L | gamma_0 | beta_0 | ... ]
      \\__ "weight": L2, weight decay __/ \\_________ no decay _____________/

For a plain MLP this is exactly scikit-learn's ``_pack`` order, so L-BFGS sees the same
vector as in scikit-learn. Because every decayed kind comes first, the L2 penalty,
weight decay and gradient clipping are single vector operations on
``params[:layout.n_decay]``; the optimizers, L-BFGS, persistence and the network all read
the same layout instead of counting entries themselves.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Kind:
    """A kind of parameter: ``decay`` says whether L2 and weight decay apply to it."""

    decay: bool
    doc: str


#: Every kind of parameter, in buffer order. Decayed kinds must come first.
KINDS = {
    "weight": Kind(True, "matrices of affine maps: L2 (alpha) and weight decay apply"),
    "bias": Kind(False, "additive offsets of affine maps"),
    "norm": Kind(False, "batch norm's scale and shift"),
    "embedding": Kind(False, "per-feature scales and embedding parameters"),
}


@dataclass(frozen=True)
class Param:
    """One array a layer owns: its ``name`` in the layer, ``shape`` and ``kind``.

    ``lr`` and ``wd`` are per-parameter factors of the learning rate and of decoupled
    weight decay, for optimizers that take them (the tabular networks: a front scale
    learns 6x faster, biases 10x slower and are not decayed). scikit-learn's MLP uses
    neither: its decay follows the kind.
    """

    name: str
    shape: tuple
    kind: str = "weight"
    lr: float = 1.0
    wd: float = 1.0

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))


class Layout:
    """Offsets of every layer's parameters and state in the flat buffers.

    Parameters
    ----------
    layers : list of Layer
        Each with ``params()`` and ``states()`` lists of :class:`Param`.

    Attributes
    ----------
    n_params, n_state : int
        Lengths of the parameter (and gradient) buffer and of the state buffer.
    n_decay : int
        The decayed parameters are ``params[:n_decay]``.
    """

    def __init__(self, layers):
        decayed = [k for k, kind in KINDS.items() if kind.decay]
        if list(KINDS)[:len(decayed)] != decayed:
            raise AssertionError("decayed kinds must come first in KINDS")
        entries = [(i, p) for i, layer in enumerate(layers) for p in layer.params()]
        unknown = {p.kind for _, p in entries} - set(KINDS)
        if unknown:
            raise ValueError(f"unknown parameter kinds {sorted(unknown)}; see KINDS.")
        order = list(KINDS)
        entries.sort(key=lambda e: order.index(e[1].kind))  # stable: layer order kept
        self.params = self._place(entries)
        self.n_params = sum(p.size for _, p, _ in self.params)
        self.n_decay = sum(p.size for _, p, _ in self.params if KINDS[p.kind].decay)
        self.state = self._place([(i, p) for i, layer in enumerate(layers)
                                  for p in layer.states()])
        self.n_state = sum(p.size for _, p, _ in self.state)
        self.n_layers = len(layers)

    @staticmethod
    def _place(entries):
        placed, offset = [], 0
        for i, p in entries:
            placed.append((i, p, offset))
            offset += p.size
        return placed

    def views(self, buffer, which="params"):
        """Per layer, a dict ``name -> view`` into ``buffer`` (reshaped, no copies)."""
        out = [{} for _ in range(self.n_layers)]
        for i, p, offset in getattr(self, which):
            out[i][p.name] = buffer[offset:offset + p.size].reshape(p.shape)
        return out

    def factors(self, name, dtype=np.float64):
        """The per-parameter factor ``name`` ("lr" or "wd") as a vector over the buffer."""
        out = np.empty(self.n_params, dtype=dtype)
        for _, p, offset in self.params:
            out[offset:offset + p.size] = getattr(p, name)
        return out
