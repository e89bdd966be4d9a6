"""Run outputs: ``metrics.jsonl`` (one JSON object per log interval), TensorBoard events and the
learning-curve PNG.

Rows are written in step order and flushed at once. Everything measured in wall-clock time goes
under keys starting ``perf/``, so two runs of one config and seed give identical files once those
keys are dropped. On resume the file is cut back to the checkpoint's step, so it continues without
gaps or repeats, and TensorBoard is told to purge events past that step.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np


def to_json_value(x):
  x = np.asarray(x).item()
  if isinstance(x, float) and not math.isfinite(x):
    return None
  return x


def read_rows(path: str) -> list[dict]:
  """The rows of a ``metrics.jsonl`` (none if it does not exist), up to a torn last line that a
  killed run may have left (the run drops it itself when it resumes)."""
  if not os.path.exists(path):
    return []
  rows = []
  with open(path) as f:
    for line in f:
      try:
        rows.append(json.loads(line))
      except json.JSONDecodeError:
        break
  return rows


def write_json(path: str, value) -> None:
  """Writes ``value`` as JSON atomically: readers see the old file or the new one, never a part.
  The temporary name is per process, as several processes of one run may write the same file."""
  tmp = f"{path}.{os.getpid()}.tmp"
  with open(tmp, "w") as f:
    json.dump(value, f, indent=2, sort_keys=True)
  os.replace(tmp, path)


def truncate_rows(path: str, last_step: int) -> None:
  """Drops rows after ``last_step`` (and a torn last line) by atomically rewriting the file."""
  if not os.path.exists(path):
    return
  kept = []
  with open(path) as f:
    for line in f:
      try:
        row = json.loads(line)
      except json.JSONDecodeError:
        break
      if row["step"] > last_step:
        break
      kept.append(line if line.endswith("\n") else line + "\n")
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.writelines(kept)
  os.replace(tmp, path)


class Logger:
  """Appends rows to ``metrics.jsonl`` and mirrors numeric values to TensorBoard.

  ``events(previous_row, row) -> [records] | None`` (optional) turns two rows into event records,
  appended to ``events.jsonl`` (each with its ``step``; cut back on resume like the rows) and
  returned by :meth:`write` so the caller can show them. ``None`` means the row holds nothing to
  compare; ``previous_row`` is then still the last row that did.
  """

  def __init__(self, workdir: str, resume_step: int, events=None):
    from tensorboardX import SummaryWriter
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.events_path = os.path.join(workdir, "events.jsonl")
    truncate_rows(self.path, resume_step)
    truncate_rows(self.events_path, resume_step)
    rows = read_rows(self.path)
    self.last_row = rows[-1] if rows else None
    self.events = events
    self.file = open(self.path, "a")
    self.tb = SummaryWriter(os.path.join(workdir, "tb"),
                            purge_step=resume_step + 1 if resume_step else None)

  def write(self, row: dict) -> list[dict]:
    row = {k: to_json_value(v) for k, v in row.items()}
    self.file.write(json.dumps(row, sort_keys=True) + "\n")
    self.file.flush()
    for k, v in row.items():
      if k != "step" and v is not None:
        self.tb.add_scalar(k, v, row["step"])
    self.tb.flush()
    records = self.events(self.last_row, row) if self.events else None
    if records is None:  # the row says nothing (e.g. no update in it): compare the next with the
      return []          # last row that did
    if records:
      with open(self.events_path, "a") as f:
        f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
    self.last_row = row
    return records

  def image(self, tag: str, rgb, step: int) -> None:
    """An RGB uint8 [H, W, 3] image into TensorBoard (``goalrl.pictures`` draws them)."""
    self.tb.add_image(tag, rgb, step, dataformats="HWC")
    self.tb.flush()

  def close(self) -> None:
    self.file.close()
    self.tb.close()


CURVE_KEYS = ("episode_return", "success_rate", "coverage", "loss", "actor_loss", "recon_loss",
              "intrinsic_reward", "goals_reached_per_episode", "goals_abandoned_per_episode",
              "epsilon")


def plot_curves(rows: list[dict], path: str, title: str) -> None:
  """Writes a PNG with one panel per logged curve among ``CURVE_KEYS``."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  keys = [k for k in CURVE_KEYS if any(r.get(k) is not None for r in rows)]
  fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.2), squeeze=False)
  for ax, key in zip(axes[0], keys):
    pts = [(r["step"], r[key]) for r in rows if r.get(key) is not None]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".")
    ax.set_title(key)
    ax.set_xlabel("env steps")
    ax.grid(alpha=0.3)
  fig.suptitle(title)
  fig.tight_layout()
  tmp = path + ".tmp.png"
  fig.savefig(tmp, dpi=100)
  plt.close(fig)
  os.replace(tmp, path)
