"""The input embeddings of a tabular network: learned vectors for category codes, and
periodic features for numbers.

Both keep some columns as they are and widen others, so both write one output array
whose column blocks are documented on the class. They are the first layers of a
RealMLP-TD network (Holzmüller et al., 2024): ``CategoryEmbedding`` sits on the
preprocessor's output (codes last), ``PeriodicEmbedding`` on its numeric columns (first).

References
----------
.. [1] Holzmüller, D., Grinsztajn, L. and Steinwart, I. (2024). Better by default: strong
   pre-tuned MLPs and boosted trees on tabular data. NeurIPS.
.. [2] Gorishniy, Y., Rubachev, I. and Babenko, A. (2022). On embeddings for numerical
   features in tabular deep learning. NeurIPS.
"""

import math
from types import SimpleNamespace

import numpy as np

from .._layers import Layer
from .._layout import Param

_TWO_PI = 2.0 * math.pi


def _not_exported(layer):
    return NotImplementedError(f"{type(layer).__name__} is not exported to ONNX yet.")


class CategoryEmbedding(Layer):
    """A learned ``dim``-vector for each level of each category-code column.

    The last ``len(cardinalities)`` input columns hold integer codes stored as floats,
    as :class:`~sknumpy_mlp.tabular.TabularPreprocessor` writes them: 0 for a missing or
    unknown category, 1..k for the levels seen in ``fit``. The output is the other
    ``n_in - len(cardinalities)`` columns unchanged, followed by one row of column
    ``j``'s table (``cardinalities[j] x dim``) per code column::

        [ x_0 .. x_{p-1} | E_0[c_0] (dim) | E_1[c_1] (dim) | ... ]

    A code outside ``0..cardinalities[j] - 1`` (or NaN) is read as 0, the unknown
    category, so data the encoder never saw does not fail. The tables are initialised
    N(0, 1), as pytabkit's default embedding (missing included).

    Parameters
    ----------
    n_in : int
        Input width; the codes are its last ``len(cardinalities)`` columns.
    cardinalities : list of int
        Number of codes of each code column (levels + 1 for "missing").
    dim : int, default=8
        Width of each learned vector (RealMLP-TD: 8).

    Notes
    -----
    All tables live in one ``(sum(cardinalities), dim)`` array (parameter ``table``,
    kind "embedding", lr and weight-decay factor 1); column ``j``'s code ``c`` is its row
    ``offsets[j] + c``, so the lookup is a single ``np.take``.
    """

    name = "category_embedding"

    def __init__(self, n_in, cardinalities, dim=8):
        self.n_in, self.dim = int(n_in), int(dim)
        self.cardinalities = [int(c) for c in cardinalities]
        if len(self.cardinalities) > self.n_in or min(self.cardinalities, default=1) < 1:
            raise ValueError(f"need at most n_in={self.n_in} cardinalities >= 1, got "
                             f"{self.cardinalities}.")
        self.n_codes = len(self.cardinalities)
        self.n_pass = self.n_in - self.n_codes
        self.n_out = self.n_pass + self.n_codes * self.dim
        self._cards = np.array(self.cardinalities, dtype=np.float64)
        self._offsets = np.concatenate([[0], np.cumsum(self.cardinalities)[:-1]]) \
            .astype(np.intp)
        self._lanes = np.arange(self.dim, dtype=np.intp)

    def config(self):
        return {"n_in": self.n_in, "cardinalities": list(self.cardinalities),
                "dim": self.dim}

    def params(self):
        return [Param("table", (sum(self.cardinalities), self.dim), "embedding")]

    def bind(self, params, grads, state):
        self.table, self.table_grad = params["table"], grads["table"]

    def initialize(self, rng, scheme):
        self.table[...] = rng.normal(size=self.table.shape)

    def buffers(self, m, empty):
        return SimpleNamespace(out=empty((m, self.n_out)), dx=empty((m, self.n_in)),
                               codes=empty((m, self.n_codes)),
                               rows=empty((m, self.n_codes), np.intp),
                               keys=empty((m, self.n_codes, self.dim), np.intp),
                               dy=empty((m, self.n_codes * self.dim)))

    def rows(self, x, codes=None, out=None):
        """Row of the table each code of ``x`` selects, ``(m, n_codes)`` integers."""
        codes = np.rint(x[:, self.n_pass:], out=codes)
        unknown = ~((codes >= 0) & (codes < self._cards))  # NaN compares False
        codes[unknown] = 0
        if out is None:
            out = np.empty(codes.shape, dtype=np.intp)
        np.copyto(out, codes, casting="unsafe")
        out += self._offsets
        return out

    def forward(self, x, ws, ctx):
        """``[x_pass | table[rows]]``, into ``ws.out`` (training) or a new array."""
        m = x.shape[0]
        if ws is None:
            out, rows = np.empty((m, self.n_out), dtype=x.dtype), self.rows(x)
        else:
            out, rows = ws.out[:m], self.rows(x, ws.codes[:m], ws.rows[:m])
        out[:, :self.n_pass] = x[:, :self.n_pass]
        vectors = out[:, self.n_pass:].reshape(m, self.n_codes, self.dim)  # a view
        if ws is None:  # x may be float64 over a float32 table: a casting copy
            vectors[...] = np.take(self.table, rows, axis=0)
        else:
            np.take(self.table, rows, axis=0, out=vectors, mode="clip")  # rows are valid
        return out

    def backward(self, dy, ws, ctx, need_dx=True):
        """Scatter-add the vectors' gradients into their rows; pass the rest through.

        Notes
        -----
        With :math:`y_{i,j} = E[r_{ij}]` (row :math:`r_{ij}` of the table for sample
        :math:`i`, code column :math:`j`), each table row collects the gradients of
        every place it was looked up:

        .. math::

            \\frac{\\partial L}{\\partial E_r} = \\sum_{i,j:\\ r_{ij} = r}
                \\frac{\\partial L}{\\partial y_{i,j}}, \\qquad
            \\frac{\\partial L}{\\partial x_{\\text{pass}}} =
                \\frac{\\partial L}{\\partial y_{\\text{pass}}}, \\qquad
            \\frac{\\partial L}{\\partial x_{\\text{code}}} = 0

        (a code is piecewise constant in its input). The plain version is
        ``np.add.at(grad, rows, dy_vectors)``; here one ``np.bincount`` over the keys
        ``row * dim + lane`` does the same sums, about three times faster.
        """
        m = dy.shape[0]
        np.copyto(ws.dy[:m], dy[:, self.n_pass:])
        keys = np.multiply(ws.rows[:m, :, None], self.dim, out=ws.keys[:m])
        keys += self._lanes
        sums = np.bincount(keys.ravel(), weights=ws.dy[:m].ravel(),
                           minlength=self.table.size)
        self.table_grad[...] = sums.reshape(self.table.shape)
        if not need_dx:
            return None
        dx = ws.dx[:m]
        dx[:, :self.n_pass] = dy[:, :self.n_pass]
        dx[:, self.n_pass:] = 0.0
        return dx

    def to_onnx(self, g, x):
        raise _not_exported(self)


class PeriodicEmbedding(Layer):
    """RealMLP's "PBLD" embedding of the first ``n_numeric`` columns; the rest pass.

    Each numeric feature :math:`x_j` gets ``n_frequencies`` periodic features, a small
    linear map of them, and its raw value ("densenet" concatenation)::

        h_j = cos(2 pi w1_j x_j + b1_j)        (n_frequencies,)
        e_j = h_j @ W2_j + b2_j                (n_out,)
        y   = [ e_0, x_0 | e_1, x_1 | ... | e_{p-1}, x_{p-1} | x_p .. x_{n_in-1} ]

    so the output has ``n_numeric * (n_out + 1) + n_in - n_numeric`` columns. All
    features are computed at once on ``(n_numeric, n_frequencies, batch)`` arrays (the
    batch last, so that elementwise passes run over long contiguous rows) with batched
    ``matmul``.

    Parameters
    ----------
    n_in : int
        Input width.
    n_numeric : int
        The numeric features are the first ``n_numeric`` columns.
    n_frequencies : int, default=16
        Periodic features per numeric feature (pytabkit's ``plr_hidden_1``).
    n_out : int, default=3
        Learned outputs per feature (pytabkit's ``plr_hidden_2 - 1``; the raw value is
        the fourth).
    sigma : float, default=0.1
        Standard deviation of the initial frequencies ``w1``.

    Notes
    -----
    Initialisation as pytabkit's: ``w1 ~ N(0, sigma^2)``, ``b1 ~ U(-pi, pi)`` (centred,
    so weight decay pulls phases towards 0 rather than away), ``W2`` and ``b2``
    ``~ U(+-1/sqrt(n_frequencies))``, PyTorch's default for a linear layer. Every
    parameter has kind "embedding", learning-rate factor 0.1 and weight-decay factor
    0.1 (pytabkit decays by ``lr * wd * wd_factor * lr_factor``; ours is relative to
    ``lr * wd``, so it is their ``wd_factor * lr_factor``).
    """

    name = "periodic_embedding"

    def __init__(self, n_in, n_numeric, n_frequencies=16, n_out=3, sigma=0.1):
        self.n_in, self.n_numeric = int(n_in), int(n_numeric)
        self.n_frequencies, self.n_out, self.sigma = int(n_frequencies), int(n_out), \
            float(sigma)
        if not 0 <= self.n_numeric <= self.n_in:
            raise ValueError(f"n_numeric must be in [0, n_in={self.n_in}], got "
                             f"{self.n_numeric}.")
        self.n_embedded = self.n_numeric * (self.n_out + 1)
        self.width = self.n_embedded + self.n_in - self.n_numeric

    def config(self):
        return {"n_in": self.n_in, "n_numeric": self.n_numeric,
                "n_frequencies": self.n_frequencies, "n_out": self.n_out,
                "sigma": self.sigma}

    def params(self):
        p, k, q = self.n_numeric, self.n_frequencies, self.n_out
        return [Param(name, shape, "embedding", lr=0.1, wd=0.1) for name, shape in
                [("w1", (p, k)), ("b1", (p, k)), ("w2", (p, k, q)), ("b2", (p, q))]]

    def bind(self, params, grads, state):
        self.w1, self.b1, self.w2, self.b2 = (params[n] for n in ("w1", "b1", "w2", "b2"))
        self.w1_grad, self.b1_grad, self.w2_grad, self.b2_grad = (
            grads[n] for n in ("w1", "b1", "w2", "b2"))

    def initialize(self, rng, scheme):
        bound = 1.0 / math.sqrt(self.n_frequencies)
        self.w1[...] = self.sigma * rng.normal(size=self.w1.shape)
        self.b1[...] = rng.uniform(-math.pi, math.pi, size=self.b1.shape)
        self.w2[...] = rng.uniform(-bound, bound, size=self.w2.shape)
        self.b2[...] = rng.uniform(-bound, bound, size=self.b2.shape)

    def buffers(self, m, empty):
        p, k, q = self.n_numeric, self.n_frequencies, self.n_out
        return SimpleNamespace(xt=empty((p * m,)), z=empty((p * k * m,)),
                               h=empty((p * k * m,)), e=empty((p * q * m,)),
                               out=empty((m, self.width)), dx=empty((m, self.n_in)),
                               zh=None)

    def _blocks(self, ws, m, x):
        """``xt (p, m)``, ``z, h (p, k, m)``, ``e (p, q, m)`` and ``out``: the batch last.

        With the batch as the innermost axis every elementwise pass is one long
        contiguous loop (a ``(p, m, k)`` layout runs ``p * m`` loops of ``k``, three
        times slower), and the products over ``k`` are ``p`` matrix products of width
        ``m``. Flat buffers: for a smaller batch, the first ``p * k * m`` entries reshape
        to a contiguous ``(p, k, m)`` array.
        """
        p, k, q = self.n_numeric, self.n_frequencies, self.n_out
        if ws is None:
            empty = np.empty
            return (empty((p, m), x.dtype), empty((p, k, m), x.dtype),
                    empty((p, k, m), x.dtype), empty((p, q, m), x.dtype),
                    empty((m, self.width), x.dtype))
        return (ws.xt[:p * m].reshape(p, m), ws.z[:p * k * m].reshape(p, k, m),
                ws.h[:p * k * m].reshape(p, k, m), ws.e[:p * q * m].reshape(p, q, m),
                ws.out[:m])

    def forward(self, x, ws, ctx):
        """The embedded features then the passed columns; caches ``x^T``, ``z`` and ``h``.

        Plainly, per feature ``j`` (rows of ``x`` as the batch)::

            z[j] = 2 pi * x[:, j, None] * w1[j] + b1[j]   # (m, k)
            e[j] = cos(z[j]) @ W2[j] + b2[j]             # (m, q)

        here computed for all features at once with the batch as the last axis.
        """
        m, p, q = x.shape[0], self.n_numeric, self.n_out
        xt, z, h, e, out = self._blocks(ws, m, x)
        np.copyto(xt, x[:, :p].T)
        np.multiply(xt[:, None, :], self.w1[:, :, None], out=z)  # (p, k, m)
        z *= _TWO_PI
        z += self.b1[:, :, None]
        np.cos(z, out=h)
        np.matmul(self.w2.transpose(0, 2, 1), h, out=e)  # (p, q, m)
        e += self.b2[:, :, None]
        blocks = out[:, :self.n_embedded].reshape(m, p, q + 1)  # a view
        blocks[:, :, :q] = e.transpose(2, 0, 1)
        blocks[:, :, q] = x[:, :p]
        out[:, self.n_embedded:] = x[:, p:]
        if ws is not None:
            ws.zh = (xt, z, h)
        return out

    def backward(self, dy, ws, ctx, need_dx=True):
        """Fill the four parameter gradients; return :math:`\\partial L/\\partial x`.

        Notes
        -----
        Per feature :math:`j` and sample :math:`i`, with :math:`z = 2\\pi w_1 x + b_1`,
        :math:`h = \\cos z`, :math:`e = h W_2 + b_2`, upstream :math:`\\delta^e` on
        :math:`e` and :math:`\\delta^x` on the concatenated raw value:

        .. math::

            \\frac{\\partial L}{\\partial b_2} = \\sum_i \\delta^e_i, \\qquad
            \\frac{\\partial L}{\\partial W_2} = \\sum_i h_i^\\top \\delta^e_i, \\qquad
            \\delta^z_i = -\\sin(z_i) \\odot \\delta^e_i W_2^\\top,

        .. math::

            \\frac{\\partial L}{\\partial b_1} = \\sum_i \\delta^z_i, \\qquad
            \\frac{\\partial L}{\\partial w_1} = 2\\pi \\sum_i x_i \\delta^z_i, \\qquad
            \\frac{\\partial L}{\\partial x_i} = \\delta^x_i
                + 2\\pi\\, \\delta^z_i \\cdot w_1;

        passed columns get their upstream gradient. The arrays hold the batch last, as
        in ``forward``: ``de (p, q, m)``, ``dz (p, k, m)``, so each sum over :math:`i`
        is a sum over the last axis or a batched ``matmul`` against it. ``sin z``
        overwrites the cached ``z``: one backward per forward.
        """
        m, p, q = dy.shape[0], self.n_numeric, self.n_out
        xt, z, h = ws.zh
        blocks = dy[:, :self.n_embedded].reshape(m, p, q + 1)
        de = ws.e[:p * q * m].reshape(p, q, m)  # e is not needed any more
        np.copyto(de, blocks[:, :, :q].transpose(1, 2, 0))
        np.sum(de, axis=2, out=self.b2_grad)
        np.matmul(h, de.transpose(0, 2, 1), out=self.w2_grad)  # (p, k, q)
        dz = np.matmul(self.w2, de, out=h)  # (p, k, m), h is done
        dz *= np.sin(z, out=z)
        np.negative(dz, out=dz)
        np.sum(dz, axis=2, out=self.b1_grad)
        np.matmul(dz, xt[:, :, None], out=self.w1_grad[:, :, None])  # (p, k, 1)
        self.w1_grad *= _TWO_PI
        if not need_dx:
            return None
        dx = ws.dx[:m]
        dxn = dx[:, :p]
        np.matmul(self.w1[:, None, :], dz, out=dxn.T[:, None, :])  # (p, 1, m)
        dxn *= _TWO_PI
        dxn += blocks[:, :, q]
        dx[:, p:] = dy[:, self.n_embedded:]
        return dx

    def to_onnx(self, g, x):
        raise _not_exported(self)
