"""The agent protocol the training loop drives.

An agent is three pure functions over its own state pytree (params, target nets, optimiser
states, *its own replay streams*, counters). The loop never looks inside that state, so an agent
with an encoder, several networks and two replay streams plugs in exactly like DQN:

* ``init(key) -> state``
* ``act(state, ts, key, env_steps) -> (state, actions int32 [num_envs], metrics)``: ``ts`` is the
  current ``TimeStep``; the state may change (a goal agent picks goals here)
* ``observe(state, ts, actions, key, env_steps) -> (state, metrics)``: store the env step
  ``(ts, actions)`` in whatever replay the agent keeps and run the updates that are due.

Optionally ``pictures(state, ts) -> {"observation", "goal", "reconstruction"}``: env 0's
current observation, decoded goal and reconstruction in the encoder's input space, for the goal
strip that ``goalrl.pictures`` draws (agents without goals leave it ``None``).

Optionally ``loss(online, encoder_params, target, data, key) -> (loss, metrics)``: the training
loss of one sampled batch, ``data`` as the agent's gradient step builds it (the latent agents'
``loss_fn``); read by tests that check one learner against another, never by the loop.

``metrics`` are dicts of float32 scalars (fixed keys per agent). ``act`` metrics are averaged over
every iteration of a log interval, except keys ``sum/NAME``: event counts summed over the interval
and logged as ``NAME_per_episode`` (divided by the episodes that ended in it). ``observe`` metrics are averaged over the iterations that
updated, which the agent marks with the key ``"updated"`` (1.0 or 0.0); a key is logged as null
when no update happened in the interval. Keys ``last/NAME`` (counters, schedule states) are
logged as ``NAME`` with their value at the interval's last update instead of the mean.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp


class Agent(NamedTuple):
  init: Callable[..., Any]
  act: Callable[..., Any]
  observe: Callable[..., Any]
  pictures: Callable[..., Any] | None = None
  loss: Callable[..., Any] | None = None


LAST = "last/"  # observe-metric prefix: log the value at the interval's last update, not the mean


def update_due(cfg, env_steps, steps_per_iteration: int, can_sample):
  """The update schedule every agent shares: ``learning_starts`` env steps taken, replay ready,
  and every ``train_every``-th loop iteration (``spec.steps_per_iteration`` env steps each)."""
  return ((env_steps >= cfg.learning_starts) & can_sample
          & ((env_steps // steps_per_iteration) % cfg.train_every == 0))


def train_if_due(due, gradient_step, state, key, updates_per_train: int):
  """``updates_per_train`` scanned gradient steps when ``due``; otherwise the state unchanged and
  zeros in place of every metric. Metrics get ``updated`` = 1.0 or 0.0 (see the module doc)."""

  def train(state, key):
    state, metrics = jax.lax.scan(gradient_step, state, jax.random.split(key, updates_per_train))
    reduced = {k: v[-1] if k.startswith(LAST) else jnp.mean(v) for k, v in metrics.items()}
    return state, {**reduced, "updated": jnp.ones((), jnp.float32)}

  def skip(state, key):
    shapes = jax.eval_shape(train, state, key)[1]  # the same metric keys, without running it
    return state, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

  return jax.lax.cond(due, train, skip, state, key)
