"""Small unbatched losses in rlax's naming (``q_tm1, a_tm1, r_t, discount_t, q_t``); callers vmap.

rlax is not a dependency (it pulls distrax/tensorflow-probability); these few lines are the part
we need, checked against hand-computed values in ``tests/test_losses.py``.
"""
from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import optax


def double_q_learning_td(q_tm1: chex.Array, a_tm1: chex.Array, r_t: chex.Array,
                         discount_t: chex.Array, q_t_value: chex.Array,
                         q_t_selector: chex.Array) -> chex.Array:
  """Double Q-learning TD error: the online net picks ``a*``, the target net values it.

  ``r_t`` may be an n-step return and ``discount_t`` the matching ``gamma**k`` (0 at termination).
  """
  chex.assert_rank([q_tm1, a_tm1, r_t, discount_t, q_t_value, q_t_selector], [1, 0, 0, 0, 1, 1])
  chex.assert_type([q_tm1, a_tm1, r_t, discount_t], [float, int, float, float])
  target = r_t + discount_t * q_t_value[jnp.argmax(q_t_selector)]
  return jax.lax.stop_gradient(target) - q_tm1[a_tm1]


def huber(td_error: chex.Array, delta: float = 1.0) -> chex.Array:
  return optax.huber_loss(td_error, delta=delta)

