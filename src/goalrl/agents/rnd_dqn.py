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
* **Built on DQN**: the agent is ``agents/dqn.py`` with :func:`rnd_hook` as its batch hook; the
  predictor, target and moments are the hook's state (``DQNState.hook``).
"""
from __future__ import annotations

from typing import NamedTuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from goalrl import networks, parallel, replay
from goalrl.agents import dqn
from goalrl.agents.base import Agent
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
  predictor = rnd.predictor.init(k_predictor, spec.zero_obs(1))
  # Three buffers, not one aliased three times: the loop donates the state.
  zero = lambda: jnp.zeros((), jnp.float32)
  return RNDState(target=rnd.target.init(k_target, spec.zero_obs(1)), predictor=predictor,
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


def rnd_hook(cfg, spec: EnvSpec) -> dqn.BatchHook:
  """DQN's batch hook for RND: one predictor step on the windows' next observations, then their
  normalised errors as the per-row bonus of the n-step returns. Its state is :class:`RNDState`."""
  rnd = make_rnd(cfg.rnd, spec, cfg.max_grad_norm, cfg.adam_eps)

  def batch(rnd_state: RNDState, windows):
    rnd_state, raw, rnd_loss = rnd_update(rnd, rnd_state, next_observations(spec, windows,
                                                                            cfg.n_step))
    intrinsic = jax.lax.stop_gradient(normalise(rnd_state.moments, raw))
    transitions = bonus_transitions(spec, windows, intrinsic.reshape(-1, cfg.n_step),
                                    cfg.rnd.beta, cfg.gamma, cfg.n_step)
    return rnd_state, transitions, {"rnd_loss": rnd_loss,
                                    "intrinsic_reward": jnp.mean(intrinsic)}

  return dqn.BatchHook(init=lambda key: init_rnd(rnd, spec, key), batch=batch)


def make_agent(cfg, spec: EnvSpec) -> Agent:
  """``cfg`` is ``config.agent``: DQN keys plus ``rnd`` (see ``experiments/rnd_dqn.py``)."""
  return dqn.make_agent(cfg, spec, hook=rnd_hook(cfg, spec))
