"""RND DQN: double DQN whose n-step returns carry a random network distillation novelty bonus
(``goalrl/agents/rnd_dqn.py``). Every DQN key is as in ``experiments/dqn.py``, so the curves
compare directly; ``agent.rnd`` holds the bonus.

Variants (``--config=experiments/rnd_dqn.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, 16 envs.
  ``python -m goalrl.train --config=experiments/rnd_dqn.py:minigrid --workdir=runs/rnd``
  About 2-3 minutes on 2 CPU cores (~3k env steps/s; DQN ~4.6k). Success rate >= 0.99 by 50k
  steps and 1.0 from 60k (seed 0; seed 1: 0.98 at 40k), where ``experiments/dqn.py:minigrid``
  is at 0.22-0.34 and needs 100k-120k steps to pass 0.9. The mean bonus falls from ~0.2 to ~0.01
  by 50k: novelty wears off as the small grid is covered. (Measured with all seven actions and
  DQN's settings of before 2026-11-27; now both use the task's actions, ``env.actions="auto"``,
  and DQN the common DQN's settings. On DoorKey-8x8 with those settings RND peaks at 0.85-0.94
  and collapses into novelty: RESULTS.md §9.)
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: a smoke run of the whole pipeline in seconds,
  no learning expected.
* ``atari``: MontezumaRevenge-v5, the Nature-DQN network for Q and both RND nets, 10M env steps.
  GPU-sized; on CPU run it at smoke scale with the overrides shown in ``experiments/dqn.py``.
  Expect room coverage beyond DQN's first room, which is what the bonus is for.

Key knobs: ``--config.agent.rnd.beta=0`` (bonus off: the TD targets are plain DQN's),
``.learning_rate`` (how fast novelty wears off), ``.embedding``, ``.hidden``, ``.predictor_layers``.
"""
import os

import ml_collections

from goalrl.config import load_experiment, rnd_defaults

# The RND nets per variant (everything else is experiments/dqn.py's, variant by variant).
RND = {"minigrid": {}, "empty": {}, "quick": {},
       "atari": dict(hidden=512, predictor_layers=(512,))}


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  if variant not in RND:
    raise ValueError(f"unknown variant {variant!r} of experiments/rnd_dqn.py: choose one of "
                     f"{', '.join(repr(v) for v in RND)}")
  c = load_experiment(os.path.join(os.path.dirname(os.path.abspath(__file__)), "dqn.py"), variant)
  c.agent.rnd = rnd_defaults(**RND[variant])
  c.agent.name = "rnd_dqn"
  return c
