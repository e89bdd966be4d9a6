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

from goalrl.config import dqn_defaults, experiment

# Per variant, what DQN sets beyond the shared scale (``goalrl.config.SCALES``).
OWN = {
    # Longer returns and two updates per step: DoorKey's reward comes after ~15 steps.
    "minigrid": dict(n_step=5, updates_per_train=2, replay_size=200_000,
                     epsilon_decay_steps=100_000),
    "empty": dict(epsilon_decay_steps=15_000, learning_starts=1_000),
    "quick": {},
    "atari": dict(hidden=512, head_layers=()),  # the Nature-DQN network
}
EMPTY = {"empty": dict(env={}, run=(40_000, 2_000, 20_000), learner={})}  # base env: Empty-5x5


def agent(variant: str, learner: dict) -> ml_collections.ConfigDict:
  return dqn_defaults(**{**learner, **OWN[variant]})


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  return experiment("experiments/dqn.py", variant, agent, EMPTY)
