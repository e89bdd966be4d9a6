"""Optimistic DQN (the note's simple variant): double DQN on autoencoder latents, with synthetic
rewarded latents mixed into each update batch.

Variants (``--config=experiments/optimistic_dqn.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, MMD-regularised
  dense autoencoder (latent 32) on a reservoir stream, 10% optimistic rows with reward 0.5.
  ``python -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid --workdir=runs/odqn``
  A few minutes on 2 CPU cores; compare its curve with ``experiments/dqn.py:minigrid``.
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: smoke run of the whole pipeline, seconds.
* ``atari``: MontezumaRevenge-v5 with the note's encoder (kernels 8x4, channels 32/64/64/64,
  strides 2/2/1/1, latent 256, batch 128, lr 1e-6). GPU-sized; on CPU run it at smoke scale with
  the overrides shown in ``experiments/dqn.py``.

Key knobs: ``--config.agent.optimism.ratio=0`` (off, exactly), ``.reward``, ``.source`` (prior |
replay | both); ``--config.agent.encoder.regulariser`` (none | kl | mmd), ``.stream`` (reservoir |
fifo), ``.agent_grads``.
"""
from goalrl.config import base_config, dqn_defaults, encoder_defaults, optimism_defaults


def get_config(variant: str = "minigrid"):
  c = base_config()
  c.variant = variant
  if variant == "minigrid":
    c.env.name = "MiniGrid-DoorKey-5x5-v0"
    c.total_steps, c.log_every, c.checkpoint_every = 400_000, 10_000, 50_000
    c.agent = dqn_defaults(n_step=5, updates_per_train=2, replay_size=200_000,
                           epsilon_decay_steps=100_000)
    c.agent.encoder = encoder_defaults("minigrid")
  elif variant == "quick":
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 4_000, 1_000, 2_000
    c.agent = dqn_defaults(epsilon_decay_steps=2_000, learning_starts=500, replay_size=4_000,
                           batch_size=32)
    c.agent.encoder = encoder_defaults("minigrid", stream_size=2_000, batch_size=32)
  elif variant == "atari":
    c.env.name = "MontezumaRevenge-v5"
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 10_000_000, 40_000, 400_000
    c.agent = dqn_defaults(head_layers=(512,), batch_size=32, learning_rate=1e-4,
                           adam_eps=1.5e-4, replay_size=1_000_000, learning_starts=80_000,
                           target_update_every=2_000, epsilon_end=0.01,
                           epsilon_decay_steps=1_000_000)
    c.agent.encoder = encoder_defaults("atari")
  else:
    raise ValueError(f"unknown variant {variant!r} of experiments/optimistic_dqn.py: choose one "
                     "of 'minigrid', 'quick', 'atari'")
  c.agent.name = "optimistic_dqn"
  c.agent.zero_head = True
  c.agent.optimism = optimism_defaults()
  return c
