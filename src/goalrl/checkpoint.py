"""Checkpoints on orbax: the whole ``LoopState`` (params, optimiser state, replay contents, keys,
counters, coverage maps) plus the action log that rebuilds the envs.

Orbax writes each step into a temporary directory and renames it when complete, so a run killed
mid-save leaves the previous checkpoint intact and the partial one is ignored on restore. Saves
are synchronous: the next chunk donates the state's buffers, and a checkpoint is taken at most
every few chunks.

The state is saved as this process's host arrays with their leading device axis
(``parallel.to_local``), and restored as host arrays that ``parallel.to_global`` places back on
the devices. With several processes
(``jax.distributed``) each process saves its own devices' shards under
``checkpoints/process_<index>/``, on its own (no cross-process barrier: the shards differ).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp

from goalrl.config import ConfigError


def make_manager(workdir: str, max_to_keep: int) -> ocp.CheckpointManager:
  directory = os.path.join(os.path.abspath(workdir), "checkpoints")
  process, count = jax.process_index(), jax.process_count()
  if count > 1:
    directory = os.path.join(directory, f"process_{process}")
  os.makedirs(directory, exist_ok=True)
  options = ocp.CheckpointManagerOptions(
      max_to_keep=max_to_keep, create=False, enable_async_checkpointing=False,
      multiprocessing_options=ocp.options.MultiprocessingOptions(
          primary_host=process, active_processes={process} if count > 1 else None))
  return ocp.CheckpointManager(directory, options=options, item_names=("state", "actions"))


def save(manager: ocp.CheckpointManager, step: int, state, actions: np.ndarray) -> None:
  """``state``: host arrays (``parallel.to_local``)."""
  manager.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(state),
      actions=ocp.args.StandardSave({"actions": actions})))
  manager.wait_until_finished()


def restore(manager: ocp.CheckpointManager, template):
  """Newest readable ``(step, state, actions)``, or ``None`` when there is none.

  ``template`` is the state's structure (flax dataclasses) with this process's shapes and dtypes
  (arrays or ``ShapeDtypeStruct``s). A checkpoint that fails to restore (corrupt files, or a
  step directory damaged outside orbax) is moved aside to ``checkpoints_unreadable/`` (kept, not
  deleted, and out of the way of the new save of that step), with a warning, and the one before it
  is used.

  A checkpoint whose state has other fields than ``template`` was written by another version of
  the code, not damaged: it raises :class:`ConfigError` naming the fields and the commits that
  wrote the run (``code.json``), and stays where it is. (Before this check such a run restarted
  from step 0 over its own metrics: every checkpoint failed to restore and was moved aside.)
  """
  # Host arrays in, host arrays out (np.empty only reserves address space).
  abstract = jax.tree.map(lambda x: np.empty(x.shape, x.dtype), template)
  wanted = _paths(template)
  for step in sorted(manager.all_steps(), reverse=True):
    stored = _stored_paths(manager, step)
    if stored is not None and stored != wanted:
      raise ConfigError(_mismatch(manager, step, stored, wanted))
    try:
      restored = manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(abstract), actions=ocp.args.StandardRestore()))
      actions = np.asarray(restored.actions["actions"], np.uint8)
    except Exception as err:  # orbax/tensorstore raise many types for damaged files
      aside = os.path.join(os.path.dirname(str(manager.directory)), "checkpoints_unreadable")
      os.makedirs(aside, exist_ok=True)
      shutil.move(os.path.join(str(manager.directory), str(step)),
                  os.path.join(aside, f"{step}-{int(time.time())}"))
      manager.reload()
      print(f"warning: checkpoint {step} in {manager.directory} cannot be read "
            f"({type(err).__name__}: {(str(err).splitlines() or [''])[0][:200]}); moved it to "
            f"{aside} and trying an older one", file=sys.stderr)
      continue
    return step, restored.state, actions
  return None


def _paths(tree) -> set[str]:
  """The leaves' paths as ``a/b/0`` strings, whatever the containers (dataclass fields, dicts and
  tuples in the template; dicts in orbax's metadata). A field that is ``None`` (an option that is
  off) or an empty container (optax's ``EmptyState``) counts as a leaf, as orbax stores it."""
  name = lambda k: str(next(getattr(k, a) for a in ("key", "name", "idx") if hasattr(k, a)))
  empty = lambda x: x is None or (isinstance(x, (tuple, list, dict)) and not x)
  flat = jax.tree_util.tree_flatten_with_path(tree, is_leaf=empty)[0]
  return {"/".join(name(k) for k in path) for path, _ in flat}


def _stored_paths(manager: ocp.CheckpointManager, step: int) -> set[str] | None:
  """The leaf paths of checkpoint ``step``'s state, from its metadata; ``None`` when that cannot
  be read (a damaged checkpoint: the restore then fails and moves it aside)."""
  try:
    metadata = ocp.StandardCheckpointer().metadata(
        os.path.join(str(manager.directory), str(step), "state"))
    paths = _paths(metadata.item_metadata)
  except Exception:  # noqa: BLE001 (as in restore: damaged files raise many types)
    return None
  paths.discard("")  # damaged metadata can also read as an empty tree: the root is its one leaf
  return paths or None


def _mismatch(manager: ocp.CheckpointManager, step: int, stored: set[str], wanted: set[str]):
  workdir = os.path.dirname(str(manager.directory).rstrip(os.sep))
  if os.path.basename(workdir).startswith("process_"):
    workdir = os.path.dirname(workdir)
  only = lambda a, b: ", ".join(sorted(a - b)[:6]) + (" ..." if len(a - b) > 6 else "") or "none"
  starts = code_history(workdir)
  written = (f" The run was started or resumed by: {', '.join(starts)}." if starts else
             " (It predates code.json, which records the commits that run a workdir.)")
  return (f"checkpoint {step} in {manager.directory} holds a training state that this version of "
          f"goalrl does not build (fields only in the checkpoint: {only(stored, wanted)}; only in "
          f"this code: {only(wanted, stored)}). It was written by another version of the code."
          f"{written} Resume it with that commit (e.g. git worktree add ../old COMMIT, and run "
          "the same command there), or start anew with a new --workdir. The checkpoint and the "
          "metrics are left as they are.")


def record_code(workdir: str, step: int) -> None:
  """Appends ``{"commit", "step"}`` to ``workdir/code.json``: which code ran the workdir from
  which env step (the git commit of this package's checkout, with ``+dirty`` for uncommitted
  changes; its version where it is not a checkout)."""
  path = os.path.join(workdir, "code.json")
  history = []
  if os.path.exists(path):
    with open(path) as f:
      history = json.load(f)
  history.append({"commit": code_version(), "step": int(step)})
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(history, f, indent=1)
  os.replace(tmp, path)


def code_history(workdir: str) -> list[str]:
  """``code.json`` as ``COMMIT (from step N)`` strings; empty when there is none."""
  path = os.path.join(workdir, "code.json")
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [f"{entry['commit']} (from step {entry['step']})" for entry in json.load(f)]


@functools.lru_cache(maxsize=1)
def code_version() -> str:
  here = os.path.dirname(os.path.abspath(__file__))
  try:
    git = lambda *a: subprocess.run(["git", "-C", here, *a], capture_output=True, text=True,
                                    timeout=10, check=True).stdout.strip()
    commit = git("rev-parse", "HEAD")
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
  except (OSError, subprocess.SubprocessError):
    from importlib import metadata
    try:
      return "goalrl " + metadata.version("goalrl")
    except metadata.PackageNotFoundError:
      return "unknown"
