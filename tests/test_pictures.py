"""Pictures: visit maps put counts where the agent was, and a run writes them (PNG + TensorBoard)."""
import glob
import os

import jax.numpy as jnp
import matplotlib.image
import numpy as np
import pytest

from goalrl import envs, pictures
from helpers import group

GRID = envs.EnvSpec("MiniGrid-DoorKey-8x8-v0", "minigrid", 2, 7, (7, 7, 3), 1,
                    envs.MINIGRID_MAX_SIDE ** 2, 1, True)
MONTEZUMA = envs.EnvSpec("MontezumaRevenge-v5", "atari", 2, 18, (84, 84), 4,
                         envs.ATARI_ROOMS * 32 * 32, envs.ATARI_ROOMS, True)


def _cells(spec, fields):
  n = len(next(iter(fields.values())))
  _, signals = envs.to_timestep(spec, fields, jnp.zeros(n), jnp.zeros(n, bool),
                                jnp.zeros(n, bool), jnp.zeros(n, bool))
  return np.bincount(np.asarray(signals.cell), minlength=spec.num_cells)


def test_minigrid_map_puts_visits_at_agent_positions():
  pos = np.array([[3, 5], [3, 5], [3, 5], [6, 2], [4, 5]])  # (x, y) as envpool reports them
  counts = _cells(GRID, dict(image=np.zeros((5, 7, 7, 3), np.uint8),
                             direction=np.zeros(5, np.int32), agent_pos=pos))
  grid = pictures.minigrid_map(counts)  # cropped to x 3..6, y 2..5
  assert grid.shape == (4, 4) and grid.sum() == 5
  assert grid[5 - 2, 3 - 3] == 3 and grid[2 - 2, 6 - 3] == 1 and grid[5 - 2, 4 - 3] == 1


def test_montezuma_rooms_split_visits_by_room():
  ram = np.zeros((3, 3), np.uint8)
  ram[:, 0] = [1, 1, 7]  # room
  ram[:, 1] = [20, 20, 100]  # x
  ram[:, 2] = [200, 200, 9]  # y
  rooms = pictures.montezuma_rooms(_cells(MONTEZUMA, dict(obs=np.zeros((3, 4, 84, 84), np.uint8),
                                                           ram=ram)))
  assert sorted(rooms) == [1, 7]
  assert rooms[1][200 // 8, 20 // 8] == 2 and rooms[7][9 // 8, 100 // 8] == 1
  image = pictures.visits_image(MONTEZUMA, _cells(MONTEZUMA, dict(
      obs=np.zeros((3, 4, 84, 84), np.uint8), ram=ram)), "test")
  assert image.dtype == np.uint8 and image.ndim == 3 and image.std() > 0


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
def test_goal_agent_run_writes_visits_and_goal_strip(quick_run):
  workdir = str(quick_run("goal_agent")[0])
  for name in ("visits.png", "goal_strip.png"):
    image = matplotlib.image.imread(os.path.join(workdir, name))
    assert image.ndim == 3 and image.std() > 0
  events = b"".join(open(f, "rb").read() for f in glob.glob(os.path.join(workdir, "tb", "*")))
  assert b"pictures/visits" in events and b"pictures/goal_strip" in events
