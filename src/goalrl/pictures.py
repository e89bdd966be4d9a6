"""Pictures a person can look at during training: where the agent has been, what it aims for.

* **Visits**: the loop counts every env step per exploration cell (``LoopState.visit_counts``).
  MiniGrid: a heatmap over the grid (log scale, cropped to the cells ever visited; with layouts
  that change per episode the maps overlay). Montezuma: one small heatmap per room visited, cells
  of 8x8 RAM pixels, titled with the room number and its share of steps.
* **Goal strip** (agents with a decoder that pick goals, i.e. the goal agent): seed's env 0 as
  *current observation | decoded chosen goal | reconstruction of the observation*. The agent
  supplies the three images in its encoder's input space (``Agent.pictures``); MiniGrid's
  one-hot groups are drawn as the expected colour of each cell's object distribution (so an
  uncertain decoder shows as a blend), Atari as the newest grey frame.

``goalrl.train`` renders both after every log interval into the run's directory (``visits.png``,
``goal_strip.png``, replaced atomically: always the latest) and into TensorBoard as images
(``pictures/visits``, ``pictures/goal_strip``), so the history is kept there. Pure numpy in,
RGB uint8 arrays out; matplotlib only draws.
"""
from __future__ import annotations

import os

import numpy as np

from goalrl import envs

# MiniGrid object index -> colour: unseen, empty, wall, floor, door, key, ball, box, goal, lava, agent.
MINIGRID_PALETTE = np.array([
    [0, 0, 0], [40, 40, 40], [128, 128, 128], [70, 70, 90], [200, 160, 40], [240, 220, 0],
    [40, 90, 230], [140, 90, 40], [30, 200, 60], [240, 110, 20], [230, 30, 30]], np.float32)


def _figure_to_rgb(fig) -> np.ndarray:
  fig.canvas.draw()
  rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
  import matplotlib.pyplot as plt
  plt.close(fig)
  return rgb


def minigrid_map(counts: np.ndarray) -> np.ndarray:
  """Visit counts over the MiniGrid cell ids -> ``[rows (y), cols (x)]`` cropped to the visited
  box (cell id = x * MINIGRID_MAX_SIDE + y, as ``envs.to_timestep`` builds it)."""
  side = envs.MINIGRID_MAX_SIDE
  grid = np.asarray(counts).reshape(side, side).T  # [y, x]
  ys, xs = np.nonzero(grid)
  if len(ys) == 0:
    return grid[:1, :1]
  return grid[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def montezuma_rooms(counts: np.ndarray) -> dict[int, np.ndarray]:
  """Visit counts over Montezuma cells -> ``{room: counts [y cell, x cell]}`` of visited rooms."""
  side = 256 // envs.ATARI_CELL_SIZE
  per_room = np.asarray(counts).reshape(envs.ATARI_ROOMS, side, side)  # [room, x, y]
  return {int(r): per_room[r].T for r in np.nonzero(per_room.sum((1, 2)))[0]}


def visits_image(spec: envs.EnvSpec, counts: np.ndarray, title: str) -> np.ndarray:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  if spec.kind == "minigrid":
    grid = minigrid_map(counts)
    # constrained layout keeps the title and the colour bar's label inside the figure
    fig, ax = plt.subplots(figsize=(4.8, 4.2), layout="constrained")
    im = ax.imshow(np.log1p(grid), cmap="magma")
    fig.colorbar(im, ax=ax, fraction=0.046, label="log(1 + env steps in cell)")
    ax.set_title(f"{title}\n{int((grid > 0).sum())} cells visited", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return _figure_to_rgb(fig)
  rooms = montezuma_rooms(counts)
  total = max(sum(r.sum() for r in rooms.values()), 1)
  cols = min(max(len(rooms), 1), 6)
  rows = -(-max(len(rooms), 1) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(max(1.8 * cols, 4.5), 1.9 * rows + 0.6),
                           squeeze=False, layout="constrained")
  for ax in axes.flat:
    ax.axis("off")
  for ax, (room, grid) in zip(axes.flat, sorted(rooms.items())):
    ax.imshow(np.log1p(grid), cmap="magma", origin="lower")
    ax.set_title(f"room {room}: {100 * grid.sum() / total:.1f}%", fontsize=8)
  fig.suptitle(f"{title}: {len(rooms)} room(s) visited", fontsize=9)
  return _figure_to_rgb(fig)


def observation_rgb(spec: envs.EnvSpec, x: np.ndarray) -> np.ndarray:
  """One observation in the encoder's input space (``encoder.encoder_input`` / ``decode``) ->
  RGB float [H, W, 3] in [0, 1]."""
  x = np.asarray(x, np.float32)
  if spec.kind == "atari":
    frame = np.clip(x[..., -1], 0.0, 1.0)  # the newest frame of the stack
    return np.repeat(frame[..., None], 3, axis=-1)
  objects = x[..., :len(MINIGRID_PALETTE)]
  objects = objects / np.maximum(objects.sum(-1, keepdims=True), 1e-6)
  return np.clip(objects @ MINIGRID_PALETTE / 255.0, 0.0, 1.0)


def goal_strip_image(spec: envs.EnvSpec, panels: dict, title: str) -> np.ndarray:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  names = ("observation", "goal", "reconstruction")
  labels = ("current observation", "decoded chosen goal", "reconstruction")
  fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.9), layout="constrained")
  for ax, name, label in zip(axes, names, labels):
    ax.imshow(observation_rgb(spec, panels[name]), interpolation="nearest")
    ax.set_title(label, fontsize=9)
    ax.axis("off")
  fig.suptitle(title, fontsize=9)
  return _figure_to_rgb(fig)


def save_png(path: str, rgb: np.ndarray) -> None:
  """Writes ``rgb`` atomically (readers never see half a file)."""
  import matplotlib.image
  tmp = path + ".tmp.png"
  matplotlib.image.imsave(tmp, rgb)
  os.replace(tmp, path)


def write(spec: envs.EnvSpec, run_dir: str, logger, counts, panels, step: int, title: str) -> None:
  """Renders one seed's visits (and goal strip, when ``panels``) into ``run_dir`` and TensorBoard."""
  visits = visits_image(spec, counts, f"{title}, step {step:,}")
  save_png(os.path.join(run_dir, "visits.png"), visits)
  logger.image("pictures/visits", visits, step)
  if panels is not None:
    strip = goal_strip_image(spec, panels, f"{title}, step {step:,}: env 0")
    save_png(os.path.join(run_dir, "goal_strip.png"), strip)
    logger.image("pictures/goal_strip", strip, step)
