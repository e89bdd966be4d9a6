"""Double DQN with a random network distillation bonus (RND, Burda et al. 2018).

A fixed, randomly initialised *target* network embeds observations; a *predictor* network learns
to reproduce that embedding on the observations the agent replays. Its error stays large on
observations unlike anything it was trained on, so it is a novelty signal, the *intrinsic reward*
of the observation.

Two forms (``agent.rnd.form``):

* ``"two_heads"`` (default, the paper's): the Q network has two heads on one torso, ``Q_E`` for
  the env reward (episodic: the agent's ``gamma``, n-step returns cut at episode ends, as DQN) and
  ``Q_I`` for the intrinsic reward (*non-episodic*: ``rnd.gamma``, the n-step sum runs on through
  episode ends, since novelty found after a reset is still novelty the policy led to). The agent
  acts epsilon-greedily on ``extrinsic_coef * Q_E + intrinsic_coef * Q_I`` (the paper weights the
  two advantages 2 and 1), and both heads bootstrap on the action that sum picks at the next
  observation (double DQN: online net picks, target net values). Their Huber losses are added.
  The intrinsic reward is divided by the running std of the *intrinsic return*, as in the paper:
  every env keeps a discounted sum of the raw errors of the observations it meets (computed at
  acting time, one predictor/target forward pass per env step, never reset), and the running
  moments of those sums set the scale. Novelty then reads as "this much of a typical return",
  whatever the raw error's units. (:class:`TwoHeadState`.)
* ``"bonus"``: one head; inside every n-step window each env reward gets ``beta * intrinsic``
  added, ``intrinsic`` being the raw error divided by the running std of raw errors. Kept as an
  option: on DoorKey-8x8 with DQN's settings it peaked and then collapsed into novelty
  (RESULTS.md §9).

Choices, and why:

* **Computed at sampling time**, with the current predictor, not stored at collection time: an
  off-policy agent replays a step many times, and a bonus frozen when the step was collected would
  keep paying for states that have long become familiar.
* **Where it enters the return**: ``replay.nstep_transition(..., bonus=...)`` adds a per-row bonus
  to the stored rewards before the n-step sum, so it is discounted and cut at the episode end
  exactly like the env reward. The rows after ``j0`` are the window's next observations, rebuilt
  by ``replay.obs_at`` (frame stacks and resets included), so nothing extra is stored.
* **Bonus form is episodic**: the bonus shares the env's discount and termination, so one Q head
  and the existing n-step code suffice. A positive episodic bonus pays a little for long
  episodes; a small ``beta`` and the decay below keep it under the extrinsic reward once that is
  found.
* **Normalisation**: by a running standard deviation over the whole run (count/mean/var merged
  batch by batch; two heads: of the intrinsic returns, bonus: of the raw errors), with no mean
  subtraction: a negative bonus would pay for ending episodes (dying, in Montezuma). A whole-run
  scale lets the bonus decay as the predictor catches up, which is the point; an exponential
  average would keep rescaling it to ~1. Observations are not whitened: MiniGrid inputs are
  one-hot cells (a categorical input has no pixel statistics to whiten), and Atari frames go
  through the torso's ``/ 255``. The paper whitens Atari pixels with running per-pixel moments;
  that is not built yet (it matters on Montezuma, which needs a GPU to train).
* **Predictor training**: on those same next observations, in the same gradient step as Q, with
  its own Adam, so one sampled batch pays for both.
* **Built on the Q-learning core**: the bonus form is ``agents/dqn.py`` with :func:`rnd_hook` as
  its batch hook (the predictor, target and moments are the hook's state, ``DQNState.hook``); the
  two-head form has its own acting and loss on ``agents/qlearning.py``'s core (:func:`make_agent`).
"""
from __future__ import annotations

from typing import NamedTuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from goalrl import losses, networks, parallel, regularisers, replay
from goalrl.agents import dqn
from goalrl.agents.base import Agent
from goalrl.agents.qlearning import Learner, make_core
from goalrl.envs import EnvSpec

# Added to the running variance before the square root: raw errors are mean squares, never < 0.
STD_EPS = 1e-8


@flax.struct.dataclass
class RunningMoments:
  """Count, mean and (population) variance of every value seen so far (bonus form: raw intrinsic
  rewards; two heads: each env's discounted intrinsic return, one value per env step)."""
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


def predictor_step(rnd: RND, state: RNDState, obs):
  """One predictor step on ``obs``; returns ``(state, raw errors [B] before the step, loss)``.
  The moments are left as they are."""
  def loss_fn(predictor):
    errors = prediction_errors(rnd, predictor, state.target, obs)
    return jnp.mean(errors), errors

  (loss, errors), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.predictor)
  updates, opt_state = rnd.optimiser.update(grads, state.opt_state, state.predictor)
  state = state.replace(predictor=optax.apply_updates(state.predictor, updates),
                        opt_state=opt_state)
  return state, errors, loss


def rnd_update(rnd: RND, state: RNDState, obs):
  """:func:`predictor_step`, then the raw errors merged into the moments (the bonus form).

  The moments take in the raw errors, so the very first batch is normalised by itself. On
  several devices they take in every device's errors, so they stay the same on all of them.
  """
  state, errors, loss = predictor_step(rnd, state, obs)
  return state.replace(moments=update_moments(state.moments, parallel.gather(errors))), errors, loss


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


def intrinsic_transition(spec: EnvSpec, window: replay.Row, intrinsic: jnp.ndarray, gamma: float,
                         n_step: int) -> replay.Transition:
  """The non-episodic n-step transition of one window: ``intrinsic`` (``[n]``, the rows after
  ``j0``) summed with ``gamma`` through any episode end, bootstrapped at row ``j0 + n`` by
  ``gamma ** n`` (envpool's auto-reset puts the next episode's first observation right after a
  terminal one, so the window is one continuous stream)."""
  j0 = spec.stack - 1
  r_t = jnp.sum(gamma ** jnp.arange(n_step) * intrinsic)
  return replay.Transition(
      obs_tm1=replay.obs_at(spec, window, jnp.asarray(j0)),
      a_tm1=window.action[j0].astype(jnp.int32), r_t=r_t.astype(jnp.float32),
      discount_t=jnp.float32(gamma ** n_step),
      obs_t=replay.obs_at(spec, window, jnp.asarray(j0 + n_step)),
      valid=~(window.terminated[j0] | window.truncated[j0]))


@flax.struct.dataclass
class TwoHeadState:
  learner: Learner  # online/target params of the two-head Q network
  replay: object  # flashbax TrajectoryBufferState of replay.Row
  rnd: RNDState  # ``moments``: of the intrinsic returns in ``returns``
  returns: jnp.ndarray  # float32 [num_envs]: each env's discounted raw intrinsic return (no reset)


def two_head_loss(apply, online, target, ext: replay.Transition, intr: replay.Transition,
                  extrinsic_coef: float, intrinsic_coef: float, huber_delta: float):
  """Double-DQN Huber losses of both heads, added; ``apply(params, obs) -> [B, 2, A]`` (head 0:
  extrinsic, 1: intrinsic). Both heads bootstrap on the action the weighted sum picks (online
  net) and value it with their own head of the target net. Returns ``(loss, metrics)``."""
  combine = lambda q: extrinsic_coef * q[:, 0] + intrinsic_coef * q[:, 1]
  obs = jax.tree.map(lambda *x: jnp.concatenate(x), ext.obs_tm1, ext.obs_t, intr.obs_t)
  q_tm1, select_e, select_i = jnp.split(apply(online, obs), 3)
  value_e, value_i = jnp.split(apply(target, jax.tree.map(lambda *x: jnp.concatenate(x),
                                                          ext.obs_t, intr.obs_t)), 2)
  td = jax.vmap(losses.double_q_learning_td)
  td_e = td(q_tm1[:, 0], ext.a_tm1, ext.r_t, ext.discount_t, value_e[:, 0], combine(select_e))
  td_i = td(q_tm1[:, 1], intr.a_tm1, intr.r_t, intr.discount_t, value_i[:, 1], combine(select_i))
  loss_e = losses.masked_mean(losses.huber(td_e, huber_delta), ext.valid)
  loss_i = losses.masked_mean(losses.huber(td_i, huber_delta), ext.valid)
  taken = lambda q: losses.masked_mean(losses.q_taken(q, ext.a_tm1), ext.valid)
  return loss_e + loss_i, {"loss": loss_e + loss_i, "loss_intrinsic": loss_i,
                           "q_mean": taken(q_tm1[:, 0]), "q_intrinsic_mean": taken(q_tm1[:, 1])}


def make_two_head_agent(cfg, spec: EnvSpec) -> Agent:
  """The paper's form (see the module doc); state :class:`TwoHeadState`."""
  rnd = make_rnd(cfg.rnd, spec, cfg.max_grad_norm, cfg.adam_eps)
  net = dqn.make_network(cfg, spec, heads=2)
  apply = lambda params, obs: net.apply(params, obs).reshape(-1, 2, spec.num_actions)
  core = make_core(cfg, spec, cfg.n_step)
  c_e, c_i = cfg.rnd.extrinsic_coef, cfg.rnd.intrinsic_coef

  def init(key) -> TwoHeadState:
    k_q, k_rnd = jax.random.split(key)
    return TwoHeadState(learner=core.init(net.init(k_q, spec.zero_obs(1))),
                        replay=core.buffer.init(replay.example_row(spec)),
                        rnd=init_rnd(rnd, spec, k_rnd),
                        returns=jnp.zeros(spec.num_envs, jnp.float32))

  def act(state: TwoHeadState, ts, key, env_steps):
    q = apply(state.learner.online, ts.obs)
    actions, metrics = core.act(c_e * q[:, 0] + c_i * q[:, 1], key, env_steps)
    return state, actions, metrics

  def loss_fn(online, target, ext, intr):
    loss, metrics = two_head_loss(apply, online, target, ext, intr, c_e, c_i, cfg.huber_delta)
    return regularisers.regularise(loss, metrics, online, cfg)

  def gradient_step(state: TwoHeadState, key):
    windows = core.buffer.sample(state.replay, key).experience
    rnd_state, raw, rnd_loss = predictor_step(
        rnd, state.rnd, next_observations(spec, windows, cfg.n_step))
    intrinsic = jax.lax.stop_gradient(normalise(rnd_state.moments, raw)).reshape(-1, cfg.n_step)
    ext = replay.transitions(spec, windows, cfg.gamma, cfg.n_step)
    intr = jax.vmap(lambda w, i: intrinsic_transition(spec, w, i, cfg.rnd.gamma, cfg.n_step))(
        windows, intrinsic)
    learner = state.learner
    grads, metrics = jax.grad(loss_fn, has_aux=True)(learner.online, learner.target, ext, intr)
    metrics.update(grad_norm=optax.tree.norm(grads), rnd_loss=rnd_loss,
                   intrinsic_reward=jnp.mean(intrinsic))
    return state.replace(learner=core.step(learner, grads), rnd=rnd_state), metrics

  def observe(state: TwoHeadState, ts, actions, key, env_steps):
    # The paper's reward forward filter: each env's discounted sum of the raw errors it meets.
    raw = prediction_errors(rnd, state.rnd.predictor, state.rnd.target, ts.obs)
    returns = state.returns * cfg.rnd.gamma + raw
    moments = update_moments(state.rnd.moments, parallel.gather(returns))
    state = state.replace(rnd=state.rnd.replace(moments=moments), returns=returns)
    return core.store_and_train(state, replay.make_row(spec, ts, actions), key, env_steps,
                                gradient_step)

  return Agent(init=init, act=act, observe=observe)


def make_agent(cfg, spec: EnvSpec) -> Agent:
  """``cfg`` is ``config.agent``: DQN keys plus ``rnd`` (see ``experiments/rnd_dqn.py``)."""
  if cfg.rnd.form == "two_heads":
    return make_two_head_agent(cfg, spec)
  return dqn.make_agent(cfg, spec, hook=rnd_hook(cfg, spec))
