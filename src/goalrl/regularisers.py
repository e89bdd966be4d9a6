"""Weight regularisers: none, L2 toward zero, or each output unit's weight norm toward 1.

The note's idea: instead of shrinking weights toward zero (L2), keep every unit's incoming weight
vector at magnitude 1, so no unit dies (norm -> 0) or dominates (norm -> large), while the
direction stays free. For a kernel ``W`` whose last axis indexes output units (Flax's layout for
``Dense`` ``[in, out]`` and ``Conv`` ``[h, w, in, out]``), unit ``j``'s norm is
``n_j = ||W[..., j]||`` over all other axes, and the penalty is ``sum_j (n_j - 1)^2``. Its gradient
``2 (n_j - 1) W[..., j] / n_j`` points along the unit's own weights: outward when ``n_j < 1``
(a gradient step grows them), inward when ``n_j > 1``. Biases (1-D leaves) are not regularised.

``l2`` is ``sum W^2`` over the same kernels, for comparison. Both are summed over kernels and
multiplied by the configured coefficient by the caller (``agent.weight_reg_coef``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from goalrl.config import WEIGHT_REGS


_EPS = 1e-12  # keeps the norm's gradient finite at an all-zero unit


def kernels(params) -> list:
  """The regularised leaves: every array with two or more axes (dense and conv kernels)."""
  return [x for x in jax.tree.leaves(params) if x.ndim >= 2]


def unit_norms(kernel: jnp.ndarray) -> jnp.ndarray:
  """``[out]``: the norm of each output unit's incoming weights (all axes but the last)."""
  flat = kernel.reshape(-1, kernel.shape[-1])
  return jnp.sqrt(jnp.sum(jnp.square(flat), axis=0) + _EPS)


def penalty(params, kind: str) -> jnp.ndarray:
  """The regulariser's value (a float32 scalar; 0 for ``none``)."""
  if kind == "none":
    return jnp.zeros((), jnp.float32)
  if kind == "l2":
    return sum(jnp.sum(jnp.square(k)) for k in kernels(params))
  if kind == "unit_norm":
    return sum(jnp.sum(jnp.square(unit_norms(k) - 1.0)) for k in kernels(params))
  raise ValueError(f"weight regulariser {kind!r} is not one of {WEIGHT_REGS}")


def mean_unit_norm(params) -> jnp.ndarray:
  """Mean over every unit of every kernel of its weight norm: a metric to watch either way."""
  norms = [unit_norms(k) for k in kernels(params)]
  return jnp.mean(jnp.concatenate(norms)) if norms else jnp.zeros((), jnp.float32)


def regularise(loss: jnp.ndarray, metrics: dict, params, cfg):
  """``loss + cfg.weight_reg_coef * penalty(params, cfg.weight_reg)``; adds the metrics
  ``weight_penalty`` and ``weight_norm`` (mean unit norm) whatever the kind, so runs with and
  without it can be compared on the same curves."""
  value = penalty(params, cfg.weight_reg)
  metrics = {**metrics, "weight_penalty": value, "weight_norm": mean_unit_norm(params)}
  return loss + cfg.weight_reg_coef * value, metrics
