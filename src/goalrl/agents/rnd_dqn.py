"""Double DQN with a random network distillation bonus (RND, Burda et al. 2018).

A fixed, randomly initialised *target* network embeds observations; a *predictor* network learns
to reproduce that embedding on the observations the agent replays. Its error stays large on
observations unlike anything it was trained on, so it is a novelty signal: inside every n-step
window, each env reward gets ``beta * intrinsic`` added, where ``intrinsic`` is the predictor's
normalised error on the observation that arrived with that reward.

Choices, and why:

* **Computed at sampling time**, with the current predictor, not stored at collection time: an
  off-policy agent replays a step many times, and a bonus frozen when the step was collected would
  keep paying for states that have long become familiar.
* **Where it enters the return**: ``replay.nstep_transition(..., bonus=...)`` adds a per-row bonus
  to the stored rewards before the n-step sum, so it is discounted and cut at the episode end
  exactly like the env reward. The rows after ``j0`` are the window's next observations, rebuilt
  by ``replay.obs_at`` (frame stacks and resets included), so nothing extra is stored.
* **Episodic**: the bonus shares the env's discount and termination, so one Q head and the
  existing n-step code suffice. (The paper's non-episodic intrinsic return needs a second value
  head.) A positive episodic bonus pays a little for long episodes; a small ``beta`` and the decay
  below keep it under the extrinsic reward once that is found.
* **Normalisation**: raw errors are divided by the running standard deviation of every raw error
  seen in the run (count/mean/var merged batch by batch), with no mean subtraction: a negative
  bonus would pay for ending episodes (dying, in Montezuma). A whole-run scale lets the bonus decay
  as the predictor catches up, which is the point; an exponential average would keep rescaling it
  to ~1. Observations are not normalised: MiniGrid inputs are one-hot, and Atari frames go through
  the torso's ``/ 255`` (the paper whitens pixels, a candidate if Montezuma needs it).
* **Predictor training**: on those same next observations, in the same gradient step as Q, with
  its own Adam, so one sampled batch pays for both.
"""
from __future__ import annotations

from typing import NamedTuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from goalrl import losses, networks, parallel, regularisers, replay
from goalrl.agents.base import Agent, train_if_due, update_due
from goalrl.agents.dqn import dummy_obs, epsilon_greedy, make_network
from goalrl.envs import EnvSpec

# Added to the running variance before the square root: raw errors are mean squares, never < 0.
STD_EPS = 1e-8


@flax.struct.dataclass
class RunningMoments:
  """Count, mean and (population) variance of every raw intrinsic reward seen so far."""
  count: jnp.ndarray  # float32
  mean: jnp.ndarray
  var: jnp.ndarray


@flax.struct.dataclass
class RNDState:
  target: dict  # fixed random network: never updated
  predictor: dict
  opt_state: optax.OptState
  moments: RunningMoments


@flax.struct.dataclass
class RNDDQNState:
  online: dict
  target: dict
  opt_state: optax.OptState
  replay: object  # flashbax TrajectoryBufferState of replay.Row
  num_updates: jnp.ndarray  # int32 gradient steps so far
  rnd: RNDState


class RND(NamedTuple):
  """The two embedding networks and the predictor's optimiser (``rnd_cfg`` is ``agent.rnd``)."""
  target: nn.Module
  predictor: nn.Module
  optimiser: optax.GradientTransformation


def make_rnd(rnd_cfg, spec: EnvSpec, max_grad_norm: float, adam_eps: float) -> RND:
  """Both nets are the env's torso plus a linear embedding; the predictor may have extra layers
  (the paper's is deeper than its target, so it can fit it)."""
  torso = lambda: networks.make_torso(spec.kind, rnd_cfg.hidden)
  extra = [layer for width in rnd_cfg.predictor_layers for layer in (nn.Dense(width), nn.relu)]
  return RND(target=nn.Sequential([torso(), nn.Dense(rnd_cfg.embedding)]),
             predictor=nn.Sequential([torso(), *extra, nn.Dense(rnd_cfg.embedding)]),
             optimiser=networks.make_optimiser(rnd_cfg.learning_rate, max_grad_norm, adam_eps))


def init_rnd(rnd: RND, spec: EnvSpec, key) -> RNDState:
  k_target, k_predictor = jax.random.split(key)
  predictor = rnd.predictor.init(k_predictor, dummy_obs(spec))
  # Three buffers, not one aliased three times: the loop donates the state.
  zero = lambda: jnp.zeros((), jnp.float32)
  return RNDState(target=rnd.target.init(k_target, dummy_obs(spec)), predictor=predictor,
                  opt_state=rnd.optimiser.init(predictor),
                  moments=RunningMoments(count=zero(), mean=zero(), var=zero()))


def prediction_errors(rnd: RND, predictor: dict, target: dict, obs) -> jnp.ndarray:
  """Raw intrinsic reward: per-observation mean squared error against the target, ``[B]``."""
  diff = rnd.predictor.apply(predictor, obs) - rnd.target.apply(target, obs)
  return jnp.mean(jnp.square(diff), axis=-1)


def update_moments(m: RunningMoments, x: jnp.ndarray) -> RunningMoments:
  """Merges a batch into the running moments (Chan et al.'s parallel update: exact, stable)."""
  n = jnp.float32(x.size)
  total = m.count + n
  delta = jnp.mean(x) - m.mean
  m2 = m.var * m.count + jnp.var(x) * n + jnp.square(delta) * m.count * n / total
  return RunningMoments(count=total, mean=m.mean + delta * n / total, var=m2 / total)


def rnd_update(rnd: RND, state: RNDState, obs):
  """One predictor step on ``obs``; returns ``(state, raw errors [B] before the step, loss)``.

  The moments take in the raw errors first, so the very first batch is normalised by itself. On
  several devices they take in every device's errors, so they stay the same on all of them.
  """
  def loss_fn(predictor):
    errors = prediction_errors(rnd, predictor, state.target, obs)
    return jnp.mean(errors), errors

  (loss, errors), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.predictor)
  updates, opt_state = rnd.optimiser.update(grads, state.opt_state, state.predictor)
  state = state.replace(predictor=optax.apply_updates(state.predictor, updates),
                        opt_state=opt_state,
                        moments=update_moments(state.moments, parallel.gather(errors)))
  return state, errors, loss


def normalise(m: RunningMoments, raw: jnp.ndarray) -> jnp.ndarray:
  return raw / jnp.sqrt(m.var + STD_EPS)


def next_observations(spec: EnvSpec, windows: replay.Row, n_step: int):
  """The observations of rows ``j0 + 1 .. j0 + n`` of each window, flattened to ``[B * n]``."""
  rows = spec.stack + jnp.arange(n_step)  # j0 = stack - 1
  obs = jax.vmap(lambda w: jax.vmap(lambda j: replay.obs_at(spec, w, j))(rows))(windows)
  return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), obs)


def bonus_transitions(spec: EnvSpec, windows: replay.Row, intrinsic: jnp.ndarray, beta: float,
                      gamma: float, n_step: int) -> replay.Transition:
  """n-step transitions whose rewards carry ``beta * intrinsic`` (``[B, n]``, one per row after
  ``j0``); the rows up to ``j0`` get no bonus, as their rewards are not in the return."""
  bonus = beta * jnp.pad(intrinsic, ((0, 0), (spec.stack, 0)))
  return jax.vmap(lambda w, b: replay.nstep_transition(spec, w, gamma, n_step, bonus=b))(
      windows, bonus)


def make_agent(cfg, spec: EnvSpec) -> Agent:
  """``cfg`` is ``config.agent``: DQN keys plus ``rnd`` (see ``experiments/rnd_dqn.py``)."""
  net = make_network(cfg, spec)
  rnd = make_rnd(cfg.rnd, spec, cfg.max_grad_norm, cfg.adam_eps)
  buffer = replay.make_buffer(spec, cfg.replay_size, cfg.batch_size, cfg.n_step)
  optimiser = networks.make_optimiser(cfg.learning_rate, cfg.max_grad_norm,
                                      cfg.adam_eps)
  epsilon_at = optax.linear_schedule(cfg.epsilon_start, cfg.epsilon_end, cfg.epsilon_decay_steps)

  def init(key) -> RNDDQNState:
    k_q, k_rnd = jax.random.split(key)
    params = net.init(k_q, dummy_obs(spec))
    # A copy, not an alias: the loop donates the state, and XLA cannot donate one buffer twice.
    return RNDDQNState(online=params, target=jax.tree.map(jnp.copy, params),
                       opt_state=optimiser.init(params),
                       replay=buffer.init(replay.example_row(spec)),
                       num_updates=jnp.zeros((), jnp.int32), rnd=init_rnd(rnd, spec, k_rnd))

  def act(state: RNDDQNState, ts, key, env_steps):
    epsilon = epsilon_at(env_steps)
    q = net.apply(state.online, ts.obs)
    return state, epsilon_greedy(q, epsilon, key), {"epsilon": epsilon.astype(jnp.float32)}

  def loss_fn(online, target, batch: replay.Transition):
    loss, q_tm1 = losses.double_dqn_loss(net.apply, online, target, batch, cfg.huber_delta)
    return regularisers.regularise(loss, {
        "loss": loss, "q_mean": losses.masked_mean(losses.q_taken(q_tm1, batch.a_tm1),
                                                   batch.valid)}, online, cfg)

  def gradient_step(state: RNDDQNState, key):
    windows = buffer.sample(state.replay, key).experience
    rnd_state, raw, rnd_loss = rnd_update(
        rnd, state.rnd, next_observations(spec, windows, cfg.n_step))
    intrinsic = jax.lax.stop_gradient(normalise(rnd_state.moments, raw))
    batch = bonus_transitions(spec, windows, intrinsic.reshape(-1, cfg.n_step), cfg.rnd.beta,
                              cfg.gamma, cfg.n_step)
    grads, metrics = jax.grad(loss_fn, has_aux=True)(state.online, state.target, batch)
    updates, opt_state = optimiser.update(grads, state.opt_state, state.online)
    online = optax.apply_updates(state.online, updates)
    num_updates = state.num_updates + 1
    target = optax.periodic_update(online, state.target, num_updates, cfg.target_update_every)
    metrics.update(grad_norm=optax.tree.norm(grads), rnd_loss=rnd_loss,
                   intrinsic_reward=jnp.mean(intrinsic))
    return state.replace(online=online, target=target, opt_state=opt_state,
                         num_updates=num_updates, rnd=rnd_state), metrics

  def observe(state: RNDDQNState, ts, actions, key, env_steps):
    state = state.replace(replay=replay.add_rows(buffer, state.replay,
                                                 replay.make_row(spec, ts, actions)))
    due = update_due(cfg, env_steps, spec.steps_per_iteration, buffer.can_sample(state.replay))
    return train_if_due(due, gradient_step, state, key, cfg.updates_per_train)

  return Agent(init=init, act=act, observe=observe)
