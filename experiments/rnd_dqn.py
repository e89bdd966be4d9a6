"""RND DQN: double DQN with a random network distillation novelty bonus
(``goalrl/agents/rnd_dqn.py``), in the paper's form by default: an extrinsic and a non-episodic
intrinsic value head, acting on ``2 Q_E + Q_I``, the intrinsic reward scaled by the running std of
the intrinsic return. Every other key is ``experiments/dqn.py``'s, variant by variant (this file
loads that config and adds ``agent.rnd``), so the curves compare directly with DQN's.

Variants (``--config=experiments/rnd_dqn.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, 8 envs, DQN's common settings.
  ``python -m goalrl.train --config=experiments/rnd_dqn.py:minigrid --workdir=runs/rnd``
  DoorKey-8x8 (``--config.env.name=MiniGrid-DoorKey-8x8-v0``): success 0.9 in 5 of 5 seeds at
  80k-130k env steps (IQM 100k; DQN 137k), ~310 env steps/s per seed with 5 vmapped seeds on 2 CPU
  cores (RESULTS.md §9). DoorKey-5x5: 0.9 in 5 of 5 seeds at 50k-100k (DQN 50k-90k), 0.99 at 200k.
* ``empty``: MiniGrid-Empty-5x5-v0, 40k env steps (as ``experiments/dqn.py:empty``).
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: a smoke run of the whole pipeline in seconds,
  no learning expected.
* ``atari``: MontezumaRevenge-v5, the Nature-DQN network for Q and both RND nets, 10M env steps.
  GPU-sized; on CPU run it at smoke scale with the overrides shown in ``experiments/dqn.py``.
  Expect room coverage beyond DQN's first room, which is what the bonus is for.

Key knobs: ``--config.agent.rnd.intrinsic_coef=0`` (act on the extrinsic head alone),
``.extrinsic_coef``, ``.gamma`` (intrinsic discount), ``.learning_rate`` (how fast novelty wears
off), ``.embedding``, ``.hidden``, ``.predictor_layers``; ``.form=bonus`` for the first,
one-head form (``beta`` x the bonus added to every env reward), which collapsed into novelty on
DoorKey-8x8 (RESULTS.md §9).
"""
import os

import ml_collections

from goalrl.config import load_experiment, rnd_defaults

# The RND nets per variant (everything else is experiments/dqn.py's, variant by variant).
RND = {"minigrid": {}, "long": {}, "empty": {}, "quick": {},
       "atari": dict(hidden=512, predictor_layers=(512,))}


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  if variant not in RND:
    raise ValueError(f"unknown variant {variant!r} of experiments/rnd_dqn.py: choose one of "
                     f"{', '.join(repr(v) for v in RND)}")
  c = load_experiment(os.path.join(os.path.dirname(os.path.abspath(__file__)), "dqn.py"), variant)
  c.agent.rnd = rnd_defaults(**RND[variant])
  c.agent.name = "rnd_dqn"
  return c
