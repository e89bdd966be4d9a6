"""Agent replay: per-env trajectories on flashbax, each Atari frame stored once.

A row of the replay is one env step, dm_env style (see :class:`goalrl.envs.TimeStep`): the newest
frame of ``obs_t``, the reward and flags that arrived with it, ``first_t`` and the action taken
from it. Rows are appended along a per-env time axis of a flashbax trajectory buffer
(``[num_envs, capacity // num_envs]``), which samples windows of ``stack + n_step`` consecutive
rows that never cross the write head. One window holds everything an n-step transition needs:

* ``obs_tm1`` = the ``stack`` frames ending at row ``j0 = stack - 1``;
* rewards and flags of rows ``j0 + 1 .. j0 + n``, cut at the first episode end;
* ``obs_t`` = the ``stack`` frames ending at the bootstrap row.

So a stacked Atari observation is never stored (4x saving) and neither is ``next_obs`` (2x): a
row costs 84*84 + 7 = 7,063 bytes instead of ~56 KB (``benchmarks/replay_memory.py`` measures it).
Frames from before an episode's first row are replaced by that first frame, which is what envpool
itself puts in the stack after a reset.

flashbax is used as is (init/add/sample over a pytree state); only the n-step assembly is ours.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import flashbax as fbx
import jax
import jax.numpy as jnp

from goalrl.envs import EnvSpec, TimeStep


class Row(NamedTuple):
  """One stored env step (for one env)."""
  frame: Any  # Atari: uint8 [84, 84] newest frame; MiniGrid: dict(image uint8 [7,7,3], direction uint8)
  action: jnp.ndarray  # uint8 (every envpool action space here has < 256 actions)
  reward: jnp.ndarray  # float32, arrived with this row's obs
  terminated: jnp.ndarray  # bool, this row's obs is terminal
  truncated: jnp.ndarray  # bool, this row's obs ended the episode by time limit
  first: jnp.ndarray  # bool, this row's obs is a reset obs


class Transition(NamedTuple):
  """A batch of n-step transitions, rlax naming: ``r_t`` is the n-step return, ``discount_t``
  the bootstrap factor (``gamma**k``, 0 after termination), ``valid`` masks windows that start on a
  terminal obs (whose action envpool ignored)."""
  obs_tm1: Any
  a_tm1: jnp.ndarray
  r_t: jnp.ndarray
  discount_t: jnp.ndarray
  obs_t: Any
  valid: jnp.ndarray


def make_row(spec: EnvSpec, ts: TimeStep, actions: jnp.ndarray) -> Row:
  """The rows of one env step for the whole batch (leading axis ``num_envs``)."""
  return Row(frame=spec.newest_frame(ts.obs), action=actions.astype(jnp.uint8), reward=ts.reward,
             terminated=ts.terminated, truncated=ts.truncated, first=ts.first)


def make_buffer(spec: EnvSpec, capacity: int, batch_size: int, n_step: int):
  """A flashbax trajectory buffer holding ``capacity`` rows in all, sampling n-step windows."""
  return fbx.make_trajectory_buffer(
      add_batch_size=spec.num_envs, sample_batch_size=batch_size,
      sample_sequence_length=spec.stack + n_step, period=1,
      min_length_time_axis=spec.stack + n_step, max_length_time_axis=capacity // spec.num_envs)


def example_row(spec: EnvSpec) -> Row:
  """A single-env row of zeros: flashbax infers the storage layout from it."""
  return Row(frame=spec.zero_frame(), action=jnp.zeros((), jnp.uint8),
             reward=jnp.zeros((), jnp.float32), terminated=jnp.zeros((), bool),
             truncated=jnp.zeros((), bool), first=jnp.zeros((), bool))


def add_rows(buffer, state, rows: Row):
  """Appends one step for every env (rows have leading axis ``num_envs``)."""
  return buffer.add(state, jax.tree.map(lambda x: x[:, None], rows))


def obs_at(spec: EnvSpec, window: Row, j: jnp.ndarray):
  """The observation whose newest frame is window row ``j`` (one window, unbatched)."""
  if spec.stack == 1:
    obs = jax.tree.map(lambda x: x[j], window.frame)
  else:
    rows = j - spec.stack + 1 + jnp.arange(spec.stack)
    pos = jnp.arange(window.first.shape[0])
    # The episode's first row inside the stack (or the stack's start): earlier frames belong to a
    # previous episode and are replaced by it, as envpool does after a reset.
    in_stack = (pos >= rows[0]) & (pos <= j) & window.first
    start = jnp.max(jnp.where(in_stack, pos, rows[0]))
    obs = window.frame[jnp.maximum(rows, start)]
  if isinstance(obs, dict):  # MiniGrid: the loop's obs carries the direction as int32
    obs = {**obs, "direction": obs["direction"].astype(jnp.int32)}
  return obs


def nstep_transition(spec: EnvSpec, window: Row, gamma: float, n_step: int,
                     bonus: jnp.ndarray | None = None) -> Transition:
  """Builds one n-step transition from one sampled window of ``stack + n_step`` rows.

  ``bonus`` (optional, float32 ``[stack + n_step]``) is added to the window's rewards row by row
  before the n-step sum, so an intrinsic reward is discounted and cut at the episode end exactly
  like the env's (``agents/rnd_dqn.py``). ``None`` leaves the rewards as stored.
  """
  j0 = spec.stack - 1
  rewards = window.reward if bonus is None else window.reward + bonus
  after = slice(j0 + 1, j0 + 1 + n_step)
  k = bootstrap_row(spec, window, n_step) - j0  # steps until bootstrap, 1..n
  steps = jnp.arange(1, n_step + 1)
  r_t = jnp.sum(jnp.where(steps <= k, gamma ** (steps - 1) * rewards[after], 0.0))
  discount_t = jnp.where(window.terminated[j0 + k], 0.0, gamma ** k).astype(jnp.float32)
  return Transition(
      obs_tm1=obs_at(spec, window, jnp.asarray(j0)), a_tm1=window.action[j0].astype(jnp.int32),
      r_t=r_t.astype(jnp.float32), discount_t=discount_t, obs_t=obs_at(spec, window, j0 + k),
      valid=~(window.terminated[j0] | window.truncated[j0]))


def bootstrap_row(spec: EnvSpec, window: Row, n_step: int) -> jnp.ndarray:
  """The window row whose observation an n-step transition bootstraps from (``obs_t``): ``n_step``
  rows after the first transition row ``j0 = stack - 1``, or the first episode end before that."""
  j0 = spec.stack - 1
  after = slice(j0 + 1, j0 + 1 + n_step)
  ended = window.terminated[after] | window.truncated[after]
  return j0 + jnp.where(ended.any(), jnp.argmax(ended) + 1, n_step)


def transitions(spec: EnvSpec, windows: Row, gamma: float, n_step: int) -> Transition:
  """:func:`nstep_transition` of each window of a sampled batch (leading axis B)."""
  return jax.vmap(lambda w: nstep_transition(spec, w, gamma, n_step))(windows)


def sample_transitions(spec: EnvSpec, buffer, state, key, gamma: float, n_step: int) -> Transition:
  return transitions(spec, buffer.sample(state, key).experience, gamma, n_step)
