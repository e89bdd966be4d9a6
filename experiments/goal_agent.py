"""The goal agent (the note's full design): autoencoder latents, Q(s, g) on environment reward
with optimistic goals, a goal setter keeping the best of K candidates, a goal-conditioned actor.

Variants (``--config=experiments/goal_agent.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, ``reach`` goals with HER.
  ``python -m goalrl.train --config=experiments/goal_agent.py:minigrid --workdir=runs/goal``
  A few minutes on 2 CPU cores. Watch ``goals_reached_per_episode`` against
  ``goals_abandoned_per_episode`` (a setter stuck on unreachable goals shows up there) next to
  ``success_rate``; the closing note of the issue that built it gives measured numbers.
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: smoke run of the whole pipeline, seconds.
* ``atari``: MontezumaRevenge-v5 with the note's encoder settings; GPU-sized (see
  ``experiments/dqn.py`` for CPU smoke overrides).

Key knobs: ``agent.variant`` (progress | reach), ``agent.num_candidates``,
``agent.candidate_source`` (prior | replay | both), ``agent.reach_threshold``,
``agent.abandon_threshold``, ``agent.max_goal_steps``, ``agent.her_fraction`` (0 = off),
``agent.distance`` (latent | learned), ``agent.optimism.*``, ``agent.encoder.*``.
"""
import ml_collections

from goalrl.config import base_config, encoder_defaults, optimism_defaults


def goal_agent_defaults(kind: str, **overrides) -> ml_collections.ConfigDict:
  agent = ml_collections.ConfigDict(dict(
      name="goal_agent",
      variant="reach",  # "progress": reward = distance decrease, new goal each step
      num_candidates=32,
      candidate_source="both",
      bank_size=4_096,  # recently encoded real states offered as candidates
      reach_threshold=2.0,  # latent distance (or learned steps) counting as reached
      abandon_threshold=0.02,  # Q(s, g) under this abandons the goal (reach variant)
      max_goal_steps=20,  # ... and so does a goal this old
      distance="latent",  # "learned": a distance network estimates steps to the goal
      her_fraction=0.5,  # actor samples relabelled with a future state's latent (0 = off)
      horizon=8,  # window rows after the first: n-step, HER future and distance range
      n_step=3,  # Q(s, g) n-step return (<= horizon)
      gamma=0.99,  # Q(s, g): discount of environment reward
      actor_gamma=0.9,  # actor: discount of intrinsic reward
      head_layers=(256, 256),
      batch_size=64,
      learning_rate=5e-4,
      adam_eps=1e-5,
      max_grad_norm=10.0,
      huber_delta=1.0,
      replay_size=200_000,
      learning_starts=2_000,
      train_every=1,
      updates_per_train=1,
      target_update_every=250,
      epsilon_start=1.0,
      epsilon_end=0.05,
      epsilon_decay_steps=100_000,
      weight_reg="none",  # goal_q/actor/distance kernels: "none" | "l2" | "unit_norm" (toward 1)
      weight_reg_coef=1e-3,
  ))
  agent.encoder = encoder_defaults(kind)
  agent.optimism = optimism_defaults()
  agent.update(overrides)
  return agent


def get_config(variant: str = "minigrid"):
  c = base_config()
  c.variant = variant
  if variant == "minigrid":
    c.env.name = "MiniGrid-DoorKey-5x5-v0"
    c.total_steps, c.log_every, c.checkpoint_every = 400_000, 10_000, 50_000
    c.agent = goal_agent_defaults("minigrid", updates_per_train=2)
  elif variant == "quick":
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 4_000, 1_000, 2_000
    c.agent = goal_agent_defaults("minigrid", epsilon_decay_steps=2_000, learning_starts=500,
                                  replay_size=4_000, batch_size=32, bank_size=512)
    c.agent.encoder.update(dict(stream_size=2_000, batch_size=32))
  elif variant == "atari":
    c.env.name = "MontezumaRevenge-v5"
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 10_000_000, 40_000, 400_000
    c.agent = goal_agent_defaults("atari", head_layers=(512, 512), batch_size=32,
                                  learning_rate=1e-4, adam_eps=1.5e-4, replay_size=1_000_000,
                                  learning_starts=80_000, target_update_every=2_000,
                                  epsilon_end=0.01, epsilon_decay_steps=1_000_000,
                                  reach_threshold=8.0)
  else:
    raise ValueError(f"unknown variant {variant!r} of experiments/goal_agent.py: choose one of "
                     "'minigrid', 'quick', 'atari'")
  return c
