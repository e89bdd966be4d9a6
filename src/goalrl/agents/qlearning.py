"""The Q-learning core every agent composes: learner state, optimiser step with the periodic
target copy, epsilon-greedy acting, and storing env steps in replay with the shared update
schedule.

An agent builds one ``Core`` from its config and keeps a :class:`Learner` in its state; its file
then holds only what makes it that agent (its networks, how a sampled window becomes a loss, what
else it stores). ``agents/dqn.py`` adds one more extension point on top, a :class:`BatchHook`
(state of its own, e.g. RND's predictor or visit counts, plus a rewrite of the TD batch), which is
how RND-DQN builds on DQN.

* :class:`Learner`: ``online`` params (any pytree; the goal agent's is ``{"goal_q", "actor",
  "distance"}``), ``target`` = a copy of all of them or of the subset named by ``target_keys``,
  the optimiser state and the gradient-step count.
* ``Core.init(params)`` -> ``Learner``; ``Core.step(learner, grads)`` -> ``Learner`` after one Adam
  step (``networks.make_optimiser``: device mean, clipping) and, every ``target_update_every``
  steps, the target copy; ``Core.act(q [N, A], key, env_steps)`` -> ``(actions, {"epsilon"})``;
  ``Core.store_and_train(state, rows, key, env_steps, gradient_step)`` appends one env step's rows
  to ``state.replay`` and runs ``updates_per_train`` scanned ``gradient_step``\\ s when due
  (``base.update_due``/``base.train_if_due``).

``cfg`` is ``config.agent``: the DQN-family keys of ``config.dqn_defaults``.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax

from goalrl import networks, replay
from goalrl.agents.base import train_if_due, update_due
from goalrl.envs import EnvSpec


@flax.struct.dataclass
class Learner:
  online: Any  # params
  target: Any  # copy of ``online`` (or of its ``target_keys`` entries), refreshed periodically
  opt_state: optax.OptState
  num_updates: jnp.ndarray  # int32 gradient steps so far


class Core(NamedTuple):
  buffer: Any  # flashbax trajectory buffer of the agent's replay rows
  init: Callable[[Any], Learner]
  step: Callable[[Learner, Any], Learner]
  act: Callable[..., Any]
  store_and_train: Callable[..., Any]


def epsilon_greedy(q: jnp.ndarray, epsilon: jnp.ndarray, key) -> jnp.ndarray:
  """Per-row epsilon-greedy actions for a batch of Q-values [B, A]."""
  k_explore, k_random = jax.random.split(key)
  explore = jax.random.uniform(k_explore, q.shape[:1]) < epsilon
  random_actions = jax.random.randint(k_random, q.shape[:1], 0, q.shape[1])
  return jnp.where(explore, random_actions, jnp.argmax(q, axis=-1)).astype(jnp.int32)


def make_core(cfg, spec: EnvSpec, horizon: int, target_keys: tuple[str, ...] | None = None) -> Core:
  """``horizon``: rows after a window's first one that an update reads (``n_step`` for DQN, the
  goal agent's longer HER horizon). ``target_keys``: with a dict of params, the entries that have
  a target network (``None``: all of ``online``)."""
  buffer = replay.make_buffer(spec, cfg.replay_size, cfg.batch_size, horizon)
  optimiser = networks.make_optimiser(cfg.learning_rate, cfg.max_grad_norm, cfg.adam_eps)
  epsilon_at = optax.linear_schedule(cfg.epsilon_start, cfg.epsilon_end, cfg.epsilon_decay_steps)

  def targeted(params):
    return params if target_keys is None else {k: params[k] for k in target_keys}

  def init(params) -> Learner:
    # A copy, not an alias: the loop donates the state, and XLA cannot donate one buffer twice.
    return Learner(online=params, target=jax.tree.map(jnp.copy, targeted(params)),
                   opt_state=optimiser.init(params), num_updates=jnp.zeros((), jnp.int32))

  def step(learner: Learner, grads) -> Learner:
    updates, opt_state = optimiser.update(grads, learner.opt_state, learner.online)
    online = optax.apply_updates(learner.online, updates)
    num_updates = learner.num_updates + 1
    target = optax.periodic_update(targeted(online), learner.target, num_updates,
                                   cfg.target_update_every)
    return Learner(online=online, target=target, opt_state=opt_state, num_updates=num_updates)

  def act(q: jnp.ndarray, key, env_steps):
    epsilon = epsilon_at(env_steps)
    return epsilon_greedy(q, epsilon, key), {"epsilon": epsilon.astype(jnp.float32)}

  def store_and_train(state, rows, key, env_steps, gradient_step):
    """``state`` is any agent state with a ``replay`` field; ``rows`` one env step for all envs."""
    state = state.replace(replay=replay.add_rows(buffer, state.replay, rows))
    due = update_due(cfg, env_steps, spec.steps_per_iteration, buffer.can_sample(state.replay))
    return train_if_due(due, gradient_step, state, key, cfg.updates_per_train)

  return Core(buffer=buffer, init=init, step=step, act=act, store_and_train=store_and_train)
