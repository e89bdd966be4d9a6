"""Double DQN (n-step, target network, epsilon-greedy, Huber) on envpool envs.

Variants (``--config=experiments/dqn.py:<variant>``):

* ``minigrid`` (default; what ``make run`` trains): MiniGrid-DoorKey-5x5-v0, 300k env steps,
  16 envs. ``python -m goalrl.train --config=experiments/dqn.py:minigrid --workdir=runs/doorkey``
  About 2-3 minutes on 2 CPU cores; success rate climbs from ~0.1 (random) past 0.9.
* ``empty``: MiniGrid-Empty-5x5-v0, 40k env steps; success rate >= 0.9 within ~20 s on CPU
  (``tests/test_learning.py`` holds it to that).
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: a smoke run of the whole pipeline in a few
  seconds, no learning expected.
* ``atari``: MontezumaRevenge-v5 (84x84 grey, 4-frame stack, sticky actions 0.25), the Nature-DQN
  network, 10M env steps. GPU-sized: on a 2-core CPU an update takes ~0.16 s. Expect episode return
  0 (DQN does not explore Montezuma) and coverage of the first room only: the baseline the
  exploration agents must beat. Smoke scale on CPU:
  ``python -m goalrl.train --config=experiments/dqn.py:atari --workdir=runs/mr
  --config.total_steps=512 --config.log_every=256 --config.checkpoint_every=512
  --config.agent.learning_starts=256 --config.agent.replay_size=4096``

Any key can be overridden, e.g. ``--config.seed=3 --config.env.name=MiniGrid-DoorKey-6x6-v0``.
"""
import ml_collections

from goalrl.config import base_config, dqn_defaults as dqn_agent


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  c = base_config()
  c.variant = variant
  if variant == "minigrid":
    c.env.name = "MiniGrid-DoorKey-5x5-v0"
    c.total_steps, c.log_every, c.checkpoint_every = 400_000, 10_000, 50_000
    # Longer returns and two updates per step: DoorKey's reward comes after ~15 steps.
    c.agent = dqn_agent(n_step=5, updates_per_train=2, replay_size=200_000,
                        epsilon_decay_steps=100_000)
  elif variant == "empty":
    c.total_steps, c.log_every, c.checkpoint_every = 40_000, 2_000, 20_000
    c.agent = dqn_agent(epsilon_decay_steps=15_000, learning_starts=1_000)
  elif variant == "quick":
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 4_000, 1_000, 2_000
    c.agent = dqn_agent(epsilon_decay_steps=2_000, learning_starts=500, replay_size=4_000,
                        batch_size=32)
  elif variant == "atari":
    c.env.name = "MontezumaRevenge-v5"
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 10_000_000, 40_000, 400_000
    c.agent = dqn_agent(hidden=512, head_layers=(), batch_size=32, learning_rate=1e-4,
                        adam_eps=1.5e-4, replay_size=1_000_000, learning_starts=80_000,
                        train_every=1, target_update_every=2_000, epsilon_end=0.01,
                        epsilon_decay_steps=1_000_000)
  else:
    raise ValueError(f"unknown variant {variant!r} of experiments/dqn.py: choose one of "
                     "'minigrid', 'empty', 'quick', 'atari'")
  return c
