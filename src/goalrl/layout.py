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
# goalrl.envs.minigrid_situation's codes: the object carried x the object ahead x its state
SITUATIONS = 16 * 16 * 4
# MiniGrid's actions by envpool action id.
MINIGRID_ACTIONS = ("left", "right", "forward", "pickup", "drop", "toggle", "done")
# ``env.actions="auto"``: the actions a MiniGrid task family needs, by name prefix. The others
# never help there: ``done`` changes nothing in any of them, and in DoorKey a random ``drop``
# loses the key, so epsilon-greedy exploration rarely carries it to the door (RESULTS.md §9).
# Families not listed (KeyCorridor and ObstructedMaze need ``drop``; BabyAI) keep all seven.
TASK_ACTIONS = (
    ("MiniGrid-DoorKey-", "left,right,forward,pickup,toggle"),
    ("MiniGrid-Unlock-", "left,right,forward,pickup,toggle"),
    ("MiniGrid-MultiRoom-", "left,right,forward,toggle"),
    ("MiniGrid-Empty-", "left,right,forward"),
    ("MiniGrid-FourRooms-", "left,right,forward"),
    ("MiniGrid-SimpleCrossing", "left,right,forward"),
    ("MiniGrid-LavaCrossing", "left,right,forward"),
    ("MiniGrid-LavaGap", "left,right,forward"),
)


def resolve_actions(actions: str, env_name: str) -> str:
  """``env.actions`` with ``"auto"`` replaced by the env's entry of ``TASK_ACTIONS`` (``""``, the
  env's own set, where it has none)."""
  if actions != "auto":
    return actions
  return next((names for prefix, names in TASK_ACTIONS if env_name.startswith(prefix)), "")


def action_ids(actions: str, env_name: str) -> tuple[int, ...]:
  """``env.actions`` (comma-separated MiniGrid action names, or ``"auto"``) -> the env's action id
  of each of the agent's actions, in that order; ``()`` for the env's own action set."""
  actions = resolve_actions(actions, env_name)
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
