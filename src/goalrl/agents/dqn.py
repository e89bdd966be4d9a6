"""Double DQN with n-step returns, a periodically copied target network, epsilon-greedy
exploration and the Huber loss, as pure ``init / act / observe`` functions (see ``base.py``), on
the shared Q-learning core (``agents/qlearning.py``).

Replay is the frame-deduplicated trajectory buffer of ``goalrl.replay``. An update runs every
``train_every`` loop iterations (one iteration = one step of all ``num_envs`` envs) once
``learning_starts`` env steps have been taken; each runs ``updates_per_train`` gradient steps.

Extension point: a :class:`BatchHook` turns each sampled batch of replay windows into the TD batch
and carries state of its own (``DQNState.hook``); ``make_agent(cfg, spec, hook)``. Plain DQN's
hook is :func:`nstep_hook`; RND-DQN (``agents/rnd_dqn.py``) is DQN with a hook that trains the
RND predictor on the batch and adds its bonus to the rewards.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax
import jax
import optax

from goalrl import losses, networks, regularisers, replay
from goalrl.agents.base import Agent
from goalrl.agents.qlearning import Learner, make_core
from goalrl.envs import EnvSpec


@flax.struct.dataclass
class DQNState:
  learner: Learner
  replay: object  # flashbax TrajectoryBufferState of replay.Row
  hook: Any  # the BatchHook's own state (plain DQN: an empty tuple)


class BatchHook(NamedTuple):
  """How sampled replay windows become the TD batch.

  * ``init(key) -> hook_state``; ``None`` in place of the function means a stateless hook that
    takes no key (so plain DQN's parameter init uses the agent key unsplit);
  * ``batch(hook_state, windows) -> (hook_state, replay.Transition, metrics)``: ``windows`` are
    flashbax samples of ``replay.Row`` (``[B, stack + n_step]``); ``metrics`` are logged beside
    DQN's own.
  """
  init: Callable[[Any], Any] | None
  batch: Callable[..., Any]


def nstep_hook(cfg, spec: EnvSpec) -> BatchHook:
  """Plain DQN: the windows' n-step transitions, rewards as stored."""
  def batch(hook_state, windows):
    return hook_state, replay.transitions(spec, windows, cfg.gamma, cfg.n_step), {}
  return BatchHook(init=None, batch=batch)


def make_network(cfg, spec: EnvSpec, heads: int = 1) -> networks.QNetwork:
  """The Q network; ``heads`` > 1 stacks that many Q heads in one output, ``heads * A`` wide
  (RND-DQN's extrinsic and intrinsic heads)."""
  return networks.QNetwork(torso=networks.make_torso(spec.kind, cfg.hidden, cfg.torso),
                           num_actions=heads * spec.num_actions,
                           head_layers=tuple(cfg.head_layers))


def make_agent(cfg, spec: EnvSpec, hook: BatchHook | None = None) -> Agent:
  """``cfg`` is ``config.agent``: the DQN hyper-parameters (see ``experiments/dqn.py``)."""
  net = make_network(cfg, spec)
  core = make_core(cfg, spec, cfg.n_step)
  hook = hook or nstep_hook(cfg, spec)

  def init(key) -> DQNState:
    if hook.init is None:
      params, hook_state = net.init(key, spec.zero_obs(1)), ()
    else:
      k_q, k_hook = jax.random.split(key)
      params, hook_state = net.init(k_q, spec.zero_obs(1)), hook.init(k_hook)
    return DQNState(learner=core.init(params), replay=core.buffer.init(replay.example_row(spec)),
                    hook=hook_state)

  def act(state: DQNState, ts, key, env_steps):
    actions, metrics = core.act(net.apply(state.learner.online, ts.obs), key, env_steps)
    return state, actions, metrics

  def loss_fn(online, target, batch: replay.Transition):
    loss, q_tm1 = losses.double_dqn_loss(net.apply, online, target, batch, cfg.huber_delta,
                                        cfg.advantage_alpha)
    return regularisers.regularise(loss, {
        "loss": loss, "q_mean": losses.masked_mean(losses.q_taken(q_tm1, batch.a_tm1),
                                                   batch.valid)}, online, cfg)

  def gradient_step(state: DQNState, key):
    windows = core.buffer.sample(state.replay, key).experience
    hook_state, batch, hook_metrics = hook.batch(state.hook, windows)
    learner = state.learner
    grads, metrics = jax.grad(loss_fn, has_aux=True)(learner.online, learner.target, batch)
    metrics.update(grad_norm=optax.tree.norm(grads), **hook_metrics)
    return state.replace(learner=core.step(learner, grads), hook=hook_state), metrics

  def observe(state: DQNState, ts, actions, key, env_steps):
    return core.store_and_train(state, replay.make_row(spec, ts, actions), key, env_steps,
                                gradient_step)

  return Agent(init=init, act=act, observe=observe)
