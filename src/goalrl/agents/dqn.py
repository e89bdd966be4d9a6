"""Double DQN with n-step returns, a periodically copied target network, epsilon-greedy
exploration and the Huber loss, as pure ``init / act / observe`` functions (see ``base.py``).

Replay is the frame-deduplicated trajectory buffer of ``goalrl.replay``. An update runs every
``train_every`` loop iterations (one iteration = one step of all ``num_envs`` envs) once
``learning_starts`` env steps have been taken; each runs ``updates_per_train`` gradient steps.
"""
from __future__ import annotations

import flax
import jax
import jax.numpy as jnp
import optax

from goalrl import losses, networks, regularisers, replay
from goalrl.agents.base import Agent, train_if_due, update_due
from goalrl.envs import EnvSpec


@flax.struct.dataclass
class DQNState:
  online: dict
  target: dict
  opt_state: optax.OptState
  replay: object  # flashbax TrajectoryBufferState of replay.Row
  num_updates: jnp.ndarray  # int32 gradient steps so far


def make_network(cfg, spec: EnvSpec) -> networks.QNetwork:
  return networks.QNetwork(torso=networks.make_torso(spec.kind, cfg.hidden, cfg.torso),
                           num_actions=spec.num_actions, head_layers=tuple(cfg.head_layers))


def dummy_obs(spec: EnvSpec):
  """A batch of one zero observation, for parameter init."""
  if spec.kind == "atari":
    return jnp.zeros((1, spec.stack, *spec.frame_shape), jnp.uint8)
  return dict(image=jnp.zeros((1, *spec.frame_shape), jnp.uint8),
              direction=jnp.zeros((1,), jnp.int32))


def epsilon_greedy(q: jnp.ndarray, epsilon: jnp.ndarray, key) -> jnp.ndarray:
  """Per-row epsilon-greedy actions for a batch of Q-values [B, A]."""
  k_explore, k_random = jax.random.split(key)
  explore = jax.random.uniform(k_explore, q.shape[:1]) < epsilon
  random_actions = jax.random.randint(k_random, q.shape[:1], 0, q.shape[1])
  return jnp.where(explore, random_actions, jnp.argmax(q, axis=-1)).astype(jnp.int32)


def make_agent(cfg, spec: EnvSpec) -> Agent:
  """``cfg`` is ``config.agent``: the DQN hyper-parameters (see ``experiments/dqn.py``)."""
  net = make_network(cfg, spec)
  buffer = replay.make_buffer(spec, cfg.replay_size, cfg.batch_size, cfg.n_step)
  optimiser = networks.make_optimiser(cfg.learning_rate, cfg.max_grad_norm,
                                      cfg.adam_eps)
  epsilon_at = optax.linear_schedule(cfg.epsilon_start, cfg.epsilon_end, cfg.epsilon_decay_steps)

  def init(key) -> DQNState:
    params = net.init(key, dummy_obs(spec))
    # A copy, not an alias: the loop donates the state, and XLA cannot donate one buffer twice.
    target = jax.tree.map(jnp.copy, params)
    return DQNState(online=params, target=target, opt_state=optimiser.init(params),
                    replay=buffer.init(replay.example_row(spec)),
                    num_updates=jnp.zeros((), jnp.int32))

  def act(state: DQNState, ts, key, env_steps):
    epsilon = epsilon_at(env_steps)
    q = net.apply(state.online, ts.obs)
    return state, epsilon_greedy(q, epsilon, key), {"epsilon": epsilon.astype(jnp.float32)}

  def loss_fn(online, target, batch: replay.Transition):
    loss, q_tm1 = losses.double_dqn_loss(net.apply, online, target, batch, cfg.huber_delta)
    return regularisers.regularise(loss, {
        "loss": loss, "q_mean": losses.masked_mean(losses.q_taken(q_tm1, batch.a_tm1),
                                                   batch.valid)}, online, cfg)

  def gradient_step(state: DQNState, key):
    batch = replay.sample_transitions(spec, buffer, state.replay, key, cfg.gamma, cfg.n_step)
    grads, metrics = jax.grad(loss_fn, has_aux=True)(state.online, state.target, batch)
    updates, opt_state = optimiser.update(grads, state.opt_state, state.online)
    online = optax.apply_updates(state.online, updates)
    num_updates = state.num_updates + 1
    target = optax.periodic_update(online, state.target, num_updates, cfg.target_update_every)
    metrics["grad_norm"] = optax.tree.norm(grads)
    return state.replace(online=online, target=target, opt_state=opt_state,
                         num_updates=num_updates), metrics

  def observe(state: DQNState, ts, actions, key, env_steps):
    state = state.replace(replay=replay.add_rows(buffer, state.replay,
                                                 replay.make_row(spec, ts, actions)))
    due = update_due(cfg, env_steps, spec.steps_per_iteration, buffer.can_sample(state.replay))
    return train_if_due(due, gradient_step, state, key, cfg.updates_per_train)

  return Agent(init=init, act=act, observe=observe)
