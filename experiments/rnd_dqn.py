"""RND DQN: double DQN whose n-step returns carry a random network distillation novelty bonus
(``goalrl/agents/rnd_dqn.py``). Every DQN key is as in ``experiments/dqn.py``, so the curves
compare directly; ``agent.rnd`` holds the bonus.

Variants (``--config=experiments/rnd_dqn.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, 16 envs.
  ``python -m goalrl.train --config=experiments/rnd_dqn.py:minigrid --workdir=runs/rnd``
  About 2-3 minutes on 2 CPU cores (~3k env steps/s; DQN ~4.6k). Success rate >= 0.99 by 50k
  steps and 1.0 from 60k (seed 0; seed 1: 0.98 at 40k), where ``experiments/dqn.py:minigrid``
  is at 0.22-0.34 and needs 100k-120k steps to pass 0.9. The mean bonus falls from ~0.2 to ~0.01
  by 50k: novelty wears off as the small grid is covered.
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: a smoke run of the whole pipeline in seconds,
  no learning expected.
* ``atari``: MontezumaRevenge-v5, the Nature-DQN network for Q and both RND nets, 10M env steps.
  GPU-sized; on CPU run it at smoke scale with the overrides shown in ``experiments/dqn.py``.
  Expect room coverage beyond DQN's first room, which is what the bonus is for.

Key knobs: ``--config.agent.rnd.beta=0`` (bonus off: the TD targets are plain DQN's),
``.learning_rate`` (how fast novelty wears off), ``.embedding``, ``.hidden``, ``.predictor_layers``.
"""
import ml_collections

from goalrl.config import base_config, dqn_defaults


def rnd_defaults(**overrides) -> ml_collections.ConfigDict:
  """``config.agent.rnd``. ``beta`` scales the normalised bonus (mean ~0.2 per step in the first
  10k steps of DoorKey, ~0.01 by 50k) against MiniGrid's single success reward of ~0.5-1; it is
  positive and episodic, so a large one would make long episodes pay more than the goal.
  On DoorKey-5x5 (2 seeds) 0.1 reached success >= 0.98 by 40-50k steps, 0.01 by 40k-180k."""
  c = ml_collections.ConfigDict(dict(
      beta=0.1,  # weight of the normalised intrinsic reward added to each env reward
      embedding=64,  # output size of the target and predictor networks
      hidden=256,  # torso width of both RND networks (Atari: 512)
      predictor_layers=(256,),  # extra dense layers of the predictor over the target's shape
      learning_rate=1e-4,  # predictor Adam; lower = novelty wears off more slowly
  ))
  c.update(overrides)
  return c


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  c = base_config()
  c.variant = variant
  if variant == "minigrid":
    c.env.name = "MiniGrid-DoorKey-5x5-v0"
    c.total_steps, c.log_every, c.checkpoint_every = 400_000, 10_000, 50_000
    c.agent = dqn_defaults(n_step=5, updates_per_train=2, replay_size=200_000,
                           epsilon_decay_steps=100_000)
    c.agent.rnd = rnd_defaults()
  elif variant == "quick":
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 4_000, 1_000, 2_000
    c.agent = dqn_defaults(epsilon_decay_steps=2_000, learning_starts=500, replay_size=4_000,
                           batch_size=32)
    c.agent.rnd = rnd_defaults()
  elif variant == "atari":
    c.env.name = "MontezumaRevenge-v5"
    c.env.num_envs = 8
    c.total_steps, c.log_every, c.checkpoint_every = 10_000_000, 40_000, 400_000
    c.agent = dqn_defaults(hidden=512, head_layers=(), batch_size=32, learning_rate=1e-4,
                           adam_eps=1.5e-4, replay_size=1_000_000, learning_starts=80_000,
                           train_every=1, target_update_every=2_000, epsilon_end=0.01,
                           epsilon_decay_steps=1_000_000)
    c.agent.rnd = rnd_defaults(hidden=512, predictor_layers=(512,))
  else:
    raise ValueError(f"unknown variant {variant!r} of experiments/rnd_dqn.py: choose one of "
                     "'minigrid', 'quick', 'atari'")
  c.agent.name = "rnd_dqn"
  return c
