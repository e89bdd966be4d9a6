"""The observation layout of each env family goalrl runs, known from the env's name alone.

Jax-free, so the config schema can size replay and check windows before anything is built.
``goalrl.envs.EnvSpec`` carries the same facts for a built pool (checked against envpool's
observation space there) and turns them into arrays: zero observations, stored frames.

* Atari v5: a stack of 4 grey 84x84 frames; replay stores the newest frame of each step.
* MiniGrid/BabyAI: one 7x7x3 agent-view image of (object, colour, state) indices plus the agent's
  direction (0-3); networks read the image as one-hot planes of ``MINIGRID_PLANES`` sizes.
"""
from __future__ import annotations

import dataclasses
import math

MINIGRID_PLANES = (11, 6, 3)  # one-hot sizes of the object, colour and state indices
# MiniGrid's actions by envpool action id.
MINIGRID_ACTIONS = ("left", "right", "forward", "pickup", "drop", "toggle", "done")


def action_ids(actions: str) -> tuple[int, ...]:
  """``env.actions`` (comma-separated MiniGrid action names) -> the env's action id of each of the
  agent's actions, in that order; ``()`` for ``""``, the env's own action set."""
  return tuple(MINIGRID_ACTIONS.index(a.strip()) for a in actions.split(",")) if actions else ()


@dataclasses.dataclass(frozen=True)
class ObsLayout:
  kind: str  # "atari" | "minigrid"
  stack: int  # frames per observation
  frame_shape: tuple[int, ...]  # one stored frame
  direction: bool  # the agent's direction travels beside the frame (MiniGrid)

  def frame_bytes(self) -> int:
    """Bytes of one stored frame (uint8), the direction included."""
    return math.prod(self.frame_shape) + int(self.direction)

  def obs_bytes(self) -> int:
    """Bytes of one whole observation as the encoder's stream keeps it (int32 direction)."""
    return self.stack * (self.frame_bytes() - int(self.direction)) + 4 * int(self.direction)


ATARI = ObsLayout(kind="atari", stack=4, frame_shape=(84, 84), direction=False)
MINIGRID = ObsLayout(kind="minigrid", stack=1, frame_shape=(7, 7, 3), direction=True)


def env_kind(name: str) -> str:
  if name.startswith(("MiniGrid-", "BabyAI-")):
    return "minigrid"
  if name.endswith("-v5"):
    return "atari"
  raise ValueError(f"env.name={name!r} is neither a MiniGrid/BabyAI env nor an Atari '-v5' env")


def obs_layout(name: str) -> ObsLayout:
  return {"atari": ATARI, "minigrid": MINIGRID}[env_kind(name)]
