"""Optimistic DQN, the note's simple variant: double DQN on autoencoder latents, with synthetic
latent states carrying a positive reward mixed into every update batch.

The synthetic rows are terminal transitions ``(z_synthetic, random action, r_optimistic)``, so Q
learns that latents it has no data for are worth ``r_optimistic``; real transitions that lead
towards such latents inherit that value through bootstrapping, and the agent seeks them out. Real
data pulls visited latents back to their true values, so optimism fades where the agent has been.

The encoder (``goalrl.encoder``) trains on its own reservoir stream, one step per agent update, and
Q sees its latents under ``stop_gradient`` unless ``encoder.agent_grads`` is set (then the TD loss
also shapes the encoder, through the encoder's optimiser).

Optimism that fades with visits (``optimism.action_coef`` / ``bootstrap_coef`` > 0, OPIQ,
``goalrl.counts``): the agent counts every (observation code, action) it takes, acts on
``Q + action_coef / (N + 1)^count_power`` and bootstraps its targets on ``Q + bootstrap_coef /
(N + 1)^count_power`` at the next state. Both terms shrink as the pair is visited. The synthetic
rows stay as they are (``optimism.ratio``; 0 turns them off). ``optimism.counts="position"``
counts the agent's true pose instead of its view (the oracle, MiniGrid with
``env.oracle_position``): the ceiling of counting. ``optimism.episode_coef`` > 0 adds episodic
novelty (``goalrl.counts``: ``episode_coef / sqrt(N_ep)`` for arriving at an observation seen
``N_ep`` times in the env's current episode, times ``1 / sqrt(N + 1)`` with ``episode_global``):
``act`` counts the observation in its env's episode table (cleared at the episode's first
observation) and ``observe`` adds the reward to the env's in the replay row (logged as
``episode_bonus``, the mean per env step). With the oracle's codes it counts poses per episode.
``optimism.episode_novelty="noveld"`` pays NovelD's reward instead (``goalrl.counts``: the novelty
gained over the step before, on first visits of the episode, by the lifelong counts).

What Q reads (``q_input``): the latent (the note's, and ``:atari``'s) or the observation (the
``minigrid`` default since 2026-11-30), through DQN's own network (``dqn.make_network``: torso
of width ``hidden``, ``head_layers``). With the observation, the synthetic rows (latents) have
nothing to stand for, so ``optimism.ratio`` must be 0 and the optimism is the counts' alone: DQN
with OPIQ's count bonuses. Nothing reads the autoencoder then, so it neither observes nor trains
(its state stays as initialised, so checkpoints keep one layout); Q's numbers are those it had
while the autoencoder trained beside it. On DoorKey-8x8 Q on the latent learns at under half
DQN's rate even without optimism (RESULTS.md §11); this switch separates the latent's cost from
the optimism's gain. On the observation, OPIQ's counts (0.1/0.01) tied DQN at 100k on DoorKey-8x8
and fell behind it by 150k (§12), and explored KeyCorridorS3R3 far more than DQN (§12, §13): the
``minigrid`` default since 2026-11-30.
"""
from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp

from goalrl import counts as counts_lib
from goalrl import encoder as encoder_lib
from goalrl import losses, networks, optimism, regularisers, replay
from goalrl.agents import dqn, latent
from goalrl.agents.base import Agent
from goalrl.agents.qlearning import Learner, make_core
from goalrl.envs import EnvSpec


@flax.struct.dataclass
class OptimisticDQNState:
  encoder: encoder_lib.EncoderState
  learner: Learner  # Q over latents or observations (q_input)
  replay: object
  counts: Any = None  # int32 [2**hash_bits, A] visits per (observation code, action); None: off
  episode_counts: Any = None  # int32 [num_envs, 2**episode_bits] visits this episode; None: off


def optimistic_batch(key, batch: replay.Transition, num_actions: int, opt_cfg):
  """Replaces the first ``round(ratio * B)`` rows of a latent batch by optimistic ones.

  Returns ``(batch, synthetic_mask)``; with ratio 0 the batch is returned unchanged.
  """
  size = batch.a_tm1.shape[0]
  n = optimism.num_synthetic(size, opt_cfg.ratio)
  if n == 0:
    return batch, optimism.synthetic_mask(size, 0)
  k_z, k_a = jax.random.split(key)
  z = optimism.synthetic_latents(k_z, n, batch.obs_tm1, opt_cfg.source, opt_cfg.noise)
  synthetic = replay.Transition(
      obs_tm1=z, a_tm1=jax.random.randint(k_a, (n,), 0, num_actions),
      r_t=jnp.full((n,), opt_cfg.reward), discount_t=jnp.zeros((n,)), obs_t=z,
      valid=jnp.ones((n,), bool))
  return optimism.replace_rows(batch, synthetic, n), optimism.synthetic_mask(size, n)


def make_agent(cfg, spec: EnvSpec) -> Agent:
  """``cfg`` is ``config.agent`` with ``encoder`` and ``optimism`` sub-configs."""
  ae = encoder_lib.make_autoencoder(cfg.encoder, spec)
  obs_q = cfg.get("q_input", "latent") == "observation"
  q_net = (dqn.make_network(cfg, spec) if obs_q
           else networks.MLP((*cfg.head_layers, spec.num_actions), zero_head=cfg.zero_head))
  core = make_core(cfg, spec, cfg.n_step)
  opt = cfg.optimism
  episodic = opt.get("episode_coef", 0.0) > 0
  counting = (opt.get("action_coef", 0.0) > 0 or opt.get("bootstrap_coef", 0.0) > 0
              or counts_lib.reads_lifelong(opt))  # the lifelong table is kept
  counter = (counts_lib.make_counter(spec, opt.hash_bits, opt.get("counts", "observation"))
             if counting or episodic else None)
  novelty = counts_lib.make_episodic(counter, opt)  # None without episodic novelty

  def encode(params, obs):
    z = ae.encode(params, obs)
    return z if cfg.encoder.agent_grads else jax.lax.stop_gradient(z)

  def init(key) -> OptimisticDQNState:
    k_enc, k_q = jax.random.split(key)
    params = q_net.init(k_q, spec.zero_obs(1) if obs_q else jnp.zeros((1, cfg.encoder.latent)))
    return OptimisticDQNState(encoder=ae.init(k_enc), learner=core.init(params),
                              replay=core.buffer.init(replay.example_row(spec)),
                              counts=counter.init() if counting else None,
                              episode_counts=novelty.init(spec.num_envs) if episodic else None)

  def act(state: OptimisticDQNState, ts, key, env_steps):
    q = q_net.apply(state.learner.online,
                    ts.obs if obs_q else ae.encode(state.encoder.params, ts.obs))
    if counting and opt.action_coef > 0:
      q = q + counts_lib.bonus(counter.counts(state.counts, ts.obs), opt.action_coef,
                               opt.count_power)
    actions, metrics = core.act(q, key, env_steps)
    if episodic:  # this observation's visit of its episode (the reward is paid in observe)
      state = state.replace(episode_counts=novelty.visit(state.episode_counts, ts.obs, ts.first,
                                                             state.counts))
      metrics = {**metrics, "episode_bonus": jnp.mean(
          novelty.reward(state.episode_counts, state.counts, ts.obs))}
    return state, actions, metrics

  def loss_fn(online, enc_params, target, data, key):
    batch, bonus_t = data
    latents = batch if obs_q else batch._replace(
        obs_tm1=encode(enc_params, batch.obs_tm1),
        obs_t=jax.lax.stop_gradient(ae.encode(enc_params, batch.obs_t)))
    latents, synthetic = optimistic_batch(key, latents, spec.num_actions, cfg.optimism)
    loss, q_tm1 = losses.double_dqn_loss(q_net.apply, online, target, latents, cfg.huber_delta,
                                        cfg.advantage_alpha, bonus_t)
    q_taken = losses.q_taken(q_tm1, latents.a_tm1)
    return regularisers.regularise(loss, {
        "loss": loss, "q_mean": losses.masked_mean(q_taken, latents.valid & ~synthetic),
        "q_synthetic": losses.masked_mean(q_taken, synthetic),
        "synthetic_fraction": jnp.mean(synthetic.astype(jnp.float32))}, online, cfg)

  def gradient_step(state: OptimisticDQNState, key):
    k_sample, k_mix, k_enc = jax.random.split(key, 3)
    batch = replay.sample_transitions(spec, core.buffer, state.replay, k_sample, cfg.gamma,
                                      cfg.n_step)
    bonus_t = None
    if counting and opt.bootstrap_coef > 0:
      bonus_t = counts_lib.bonus(counter.counts(state.counts, batch.obs_t), opt.bootstrap_coef,
                                 opt.count_power)
    if obs_q:  # Q reads no latent: only the learner steps
      grads, metrics = jax.grad(loss_fn, has_aux=True)(
          state.learner.online, state.encoder.params, state.learner.target, (batch, bonus_t), k_mix)
      return state.replace(learner=core.step(state.learner, grads)), metrics
    return latent.update(core, ae, cfg, state, loss_fn, (batch, bonus_t), k_mix, k_enc)

  def observe(state: OptimisticDQNState, ts, actions, key, env_steps):
    k_stream, k_train = jax.random.split(key)
    if not obs_q:
      state = state.replace(encoder=ae.observe(state.encoder, ts.obs, k_stream))
    stored = (ts._replace(reward=ts.reward + novelty.reward(state.episode_counts, state.counts,
                                                             ts.obs)) if episodic else ts)
    if counting:
      state = state.replace(counts=counts_lib.add_step(counter, state.counts, ts, actions))
    return core.store_and_train(state, replay.make_row(spec, stored, actions), k_train, env_steps,
                                gradient_step)

  return Agent(init=init, act=act, observe=observe, loss=loss_fn)
