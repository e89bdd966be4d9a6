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


def masked_mean(x: chex.Array, mask: chex.Array) -> chex.Array:
  """Mean of ``x`` over the rows where ``mask`` holds (0 when none does)."""
  mask = mask.astype(jnp.float32)
  return jnp.sum(x * mask) / jnp.maximum(mask.sum(), 1.0)


def masked_metric(name: str, x: chex.Array, mask: chex.Array) -> dict:
  """An act metric that exists only where ``mask`` holds (e.g. at a goal's choice): its sum and
  count, ``num/name`` and ``den/name``, which ``loop.act_row`` divides over the whole log chunk."""
  mask = mask.astype(jnp.float32)
  return {f"num/{name}": jnp.sum(x * mask), f"den/{name}": mask.sum()}


def double_dqn_loss(q_apply, online, target, batch, huber_delta: float,
                    advantage_alpha: float = 0.0, bonus_t=None):
  """Batched double-DQN Huber loss over a ``replay.Transition`` (masked by ``valid``).

  ``obs_tm1``/``obs_t`` may be raw observations or latents, whatever ``q_apply`` takes. The online
  net sees both in one call. Returns ``(loss, q_tm1 [B, A])``.

  ``advantage_alpha`` > 0 is advantage learning (Bellemare et al. 2016, "Increasing the action gap"):
  the target of ``Q(s, a)`` is lowered by ``alpha * (max_b Q'(s, b) - Q'(s, a))`` (target net at
  ``s``), which widens the gap between the best action and the others. Where acting in place
  (a no-op, a turn) is worth only ``gamma`` x the state's value, the plain gap is ~1% and the
  greedy policy falls into loops (RESULTS.md §9). 0 leaves the loss exactly as plain double DQN.

  ``bonus_t`` (optional, float32 ``[B, A]``) is added to both nets' values at ``obs_t``: an
  optimistic bootstrap (``goalrl.counts``), which picks and values the next action by ``Q + bonus``.
  """
  both = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), batch.obs_tm1, batch.obs_t)
  q_tm1, q_t_selector = jnp.split(q_apply(online, both), 2)
  q_t_value = q_apply(target, batch.obs_t)
  if bonus_t is not None:
    q_t_selector, q_t_value = q_t_selector + bonus_t, q_t_value + bonus_t
  td = jax.vmap(double_q_learning_td)(q_tm1, batch.a_tm1, batch.r_t, batch.discount_t, q_t_value,
                                      q_t_selector)
  if advantage_alpha:
    q_tm1_target = q_apply(target, batch.obs_tm1)
    gap = jnp.max(q_tm1_target, axis=-1) - q_taken(q_tm1_target, batch.a_tm1)
    td = td - advantage_alpha * jax.lax.stop_gradient(gap)
  return masked_mean(huber(td, huber_delta), batch.valid), q_tm1


def q_taken(q: chex.Array, actions: chex.Array) -> chex.Array:
  return jnp.take_along_axis(q, actions[:, None], axis=1)[:, 0]
