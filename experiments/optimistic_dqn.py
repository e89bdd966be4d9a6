"""Optimistic DQN (the note's simple variant): double DQN on autoencoder latents, with synthetic
rewarded latents mixed into each update batch.

Variants (``--config=experiments/optimistic_dqn.py:<variant>``):

* ``minigrid`` (default): MiniGrid-DoorKey-5x5-v0, 400k env steps, MMD-regularised
  dense autoencoder (latent 32) on a reservoir stream, 10% optimistic rows with reward 0.5.
  ``python -m goalrl.train --config=experiments/optimistic_dqn.py:minigrid --workdir=runs/odqn``
  A few minutes on 2 CPU cores; compare its curve with ``experiments/dqn.py:minigrid``.
* ``note``: ``minigrid`` with the note's design (``goalrl.config.OPTIMISTIC_NOTE_DESIGN``: synthetic
  terminal rows, no visit counts), which is also today's default until count-based optimism is
  measured; it stays the note's when the default changes (``benchmarks/note_same_metrics.sh``).
* ``quick``: MiniGrid-Empty-5x5-v0, 4k env steps: smoke run of the whole pipeline, seconds.
* ``atari``: MontezumaRevenge-v5, the autoencoder on the Nature-DQN strides (kernels 8/4/3,
  channels 32/64/64, strides 4/2/1 and their transposes, latent 256, batch 32, lr 1e-4): 82x
  fewer FLOPs per encoder step than the note's (``goalrl.config.ATARI_ENCODERS``, RESULTS.md §1).
  GPU-sized; on CPU run it at smoke scale with the overrides shown in ``experiments/dqn.py``.
* ``atari_note``: ``atari`` with the note's encoder exactly (kernels 8x4, channels 32/64/64/64,
  strides 2/2/1/1, latent 256, batch 128, lr 1e-6); ~15 ms per encoder step on an H100.

Key knobs: ``--config.agent.optimism.ratio=0`` (off, exactly), ``.reward``, ``.source`` (prior |
replay | both); optimism that fades with visits (OPIQ, ``goalrl/counts.py``): ``.action_coef``,
``.bootstrap_coef`` (OPIQ's Montezuma values: 0.1 and 0.01; 0 = off, the default until measured),
``.count_power``, ``.hash_bits``; episodic novelty: ``.episode_coef`` (0 = off), ``.episode_global``,
``.episode_bits``; ``--config.agent.q_input`` (latent, the note's | observation:
DQN's network on the observation, with count-based optimism only; RESULTS.md §12);
``--config.agent.encoder.regulariser`` (none | kl | mmd), ``.stream`` (reservoir | fifo),
``.agent_grads``, ``.train_every`` (agent updates per reconstruction step: 4 ran MiniGrid
1.2x faster, RESULTS.md §1b; its effect on learning is not measured yet).
"""
import ml_collections

from goalrl import config as config_lib
from goalrl.config import dqn_defaults, encoder_defaults, experiment, optimism_defaults


# ``note`` copies ``minigrid``'s learner on purpose: ``minigrid`` is free to change as count-based
# optimism is measured, while ``note`` stays the note's (benchmarks/note_same_metrics.sh).
OWN = {
    "minigrid": dict(n_step=5, updates_per_train=2, replay_size=200_000,
                     epsilon_decay_steps=100_000),
    "note": dict(n_step=5, updates_per_train=2, replay_size=200_000,
                 epsilon_decay_steps=100_000),
    "quick": {},
    "atari": dict(head_layers=(512,)),
    "atari_note": dict(head_layers=(512,)),
}
ENCODER = {"minigrid": {}, "note": {}, "quick": dict(stream_size=2_000, batch_size=32), "atari": {},
           "atari_note": dict(atari="note")}
SCALES = {"atari_note": config_lib.SCALES["atari"], "note": config_lib.SCALES["minigrid"]}


def agent(variant: str, learner: dict) -> ml_collections.ConfigDict:
  a = dqn_defaults(**{**learner, **OWN[variant]})
  a.encoder = encoder_defaults("atari" if variant.startswith("atari") else "minigrid",
                               **ENCODER[variant])
  a.name = "optimistic_dqn"
  a.zero_head = True
  a.q_input = "latent"  # "observation": Q is DQN's network on the observation (optimism.ratio 0)
  a.optimism = optimism_defaults()
  if variant == "note":
    a.update(config_lib.OPTIMISTIC_NOTE_DESIGN)
  return a


def get_config(variant: str = "minigrid") -> ml_collections.ConfigDict:
  return experiment("experiments/optimistic_dqn.py", variant, agent, SCALES)
