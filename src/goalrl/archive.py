"""A goal archive of real reached states: cells of observations, visit counts, and pointers into
the agent's replay (Go-Explore's archive, in a fixed-size table that lives in the jitted state).

Cells: an observation's cell is its ``goalrl.counts`` code with ``bits`` bits (an exact hash of the
view on MiniGrid, SimHash of the frames on Atari), so ``2**bits`` cells. Per cell the archive keeps

* ``count``: visits over the whole run (every env step's observation counts once);
* ``env``, ``time``: where the cell's latest visit sits in the agent's flashbax replay (row
  ``[env, time]`` of its ``[num_envs, T]`` time axis), and ``written``: the archive's step count at
  that visit.

The archive holds no observation (no Atari frame stack per cell): a candidate's observation is read
from the replay when the goal setter draws it, and encoded there with the current encoder.

**Overwritten sources.** The replay overwrites each env's slot once every ``T`` adds, so a pointer
is *fresh* while ``step - written <= T - stack`` (the rows of its whole frame stack are still
there). A stale cell is never drawn; it keeps its count, and its next visit points it at the new
row. So the archive forgets the observation of a cell that was not visited for a replay's length
(200k env steps at the MiniGrid defaults), not the cell's count. Distinct observations that share a
code (a hash collision) share a cell, whose pointer names the latest of them.

**Drawing.** ``K`` fresh cells per env, cell ``c`` with probability proportional to ``(count_c +
1) ** -power`` (Go-Explore's ``1 / sqrt(n + 1)`` at ``power = 0.5``; 0 = uniform over cells), by
inverse CDF: one cumulative sum over the cells and a binary search per draw, ``O(C + N K log C)``
per step where a categorical draw would cost ``O(N K C)``.

**Outcomes** (``init(bits, outcomes=True)``, the goal agent's ``archive_reach_power > 0``): per
cell, ``chosen`` counts the goals the setter took from it and ``reached`` those of them reached.
``reach_rate`` is their Laplace ratio ``(reached + 1) / (chosen + 1)``: 1 for a cell never chosen,
falling as ``1 / (chosen + 1)`` for one chosen and never reached. The setter multiplies a cell's
novelty by it (Go-Explore scores a cell down by the times it was chosen, as a goal that keeps
being chosen and keeps yielding nothing is worth less; here only goals that are not reached fade,
so a rare goal the agent can reach keeps its novelty until visits wear it down).
"""
from __future__ import annotations

from typing import NamedTuple

import flax
import jax
import jax.numpy as jnp

from goalrl import counts as counts_lib
from goalrl import replay
from goalrl.envs import EnvSpec


@flax.struct.dataclass
class Archive:
  count: jnp.ndarray  # int32 [C]: visits per cell
  env: jnp.ndarray  # int32 [C]: replay env of the cell's latest visit
  time: jnp.ndarray  # int32 [C]: replay time index of the cell's latest visit
  written: jnp.ndarray  # int32 [C]: ``step`` at the latest visit; -1 = never visited
  step: jnp.ndarray  # int32: replay adds (loop iterations, one row per env each) so far
  chosen: jnp.ndarray | None = None  # int32 [C]: goals taken from the cell (with outcomes)
  reached: jnp.ndarray | None = None  # int32 [C]: of those, the goals reached


class Draw(NamedTuple):
  cells: jnp.ndarray  # int32 [N, K]
  fresh: jnp.ndarray  # bool [N, K]: the drawn cell is fresh (False only when no cell is)
  count: jnp.ndarray  # int32 [N, K]: the drawn cells' visit counts


def init(bits: int, outcomes: bool = False) -> Archive:
  """An empty archive of ``2**bits`` cells; ``outcomes``: it also counts the goals chosen from and
  reached in each cell (``record``); without, those fields are None (the state's pytree, and so
  its checkpoints, as before they existed)."""
  size = 2 ** bits
  zeros = lambda: jnp.zeros((size,), jnp.int32)
  return Archive(count=zeros(), env=zeros(), time=zeros(),
                 written=jnp.full((size,), -1, jnp.int32), step=jnp.zeros((), jnp.int32),
                 chosen=zeros() if outcomes else None, reached=zeros() if outcomes else None)


def fresh(archive: Archive, spec: EnvSpec, time_axis: int) -> jnp.ndarray:
  """bool [C]: cells whose pointer still names their visit's rows (see the module doc)."""
  return (archive.written >= 0) & (archive.step - archive.written <= time_axis - spec.stack)


def visit(archive: Archive, codes: jnp.ndarray, time: jnp.ndarray) -> Archive:
  """Counts one env step's observations (``codes`` [N], env ``i``'s at row ``[i, time]`` of the
  replay, ``time`` = the buffer's ``current_index`` before this step's rows are added) and points
  their cells at them. Two envs in one cell at one step: one of their rows is kept (XLA's
  scatter leaves which unspecified; both hold an observation of that cell)."""
  n = codes.shape[0]
  return archive.replace(
      count=archive.count.at[codes].add(1), env=archive.env.at[codes].set(jnp.arange(n)),
      time=archive.time.at[codes].set(time), written=archive.written.at[codes].set(archive.step),
      step=archive.step + 1)


def record(archive: Archive, chosen_cells: jnp.ndarray, chosen: jnp.ndarray,
           reached_cells: jnp.ndarray, reached: jnp.ndarray) -> Archive:
  """Counts one env step's goal outcomes (needs ``outcomes``): the goals chosen now in cells
  ``chosen_cells`` [N] where ``chosen`` [N] (bool), and the goals held until now, in cells
  ``reached_cells`` [N], that were reached where ``reached`` [N]. Masked-out entries may hold -1."""
  add = lambda table, cells, mask: table.at[jnp.maximum(cells, 0)].add(mask.astype(jnp.int32))
  return archive.replace(chosen=add(archive.chosen, chosen_cells, chosen & (chosen_cells >= 0)),
                         reached=add(archive.reached, reached_cells,
                                     reached & (reached_cells >= 0)))


def reach_rate(archive: Archive, cells: jnp.ndarray, power: float) -> jnp.ndarray:
  """``((reached + 1) / (chosen + 1)) ** power`` of ``cells`` [...] (float32, their shape): the
  weight on a cell's novelty that fades goals chosen and not reached (needs ``outcomes``)."""
  c = jnp.maximum(cells, 0)
  rate = ((archive.reached[c] + 1).astype(jnp.float32)
          / (archive.chosen[c] + 1).astype(jnp.float32))
  return rate ** power


def draw(archive: Archive, key, spec: EnvSpec, time_axis: int, num_envs: int, k: int,
         power: float, episode_start: jnp.ndarray | None = None) -> Draw:
  """``k`` cells per env among the fresh ones, weighted ``(count + 1) ** -power``.

  ``episode_start`` (int32 [num_envs], the archive ``step`` at which each env's current episode
  began) restricts env ``i``'s draws to the cells whose latest visit is env ``i``'s, in its current
  episode: views of the layout it is in now, so reachable where every episode draws a new layout.
  A cell that another env visited since is out of env ``i``'s scope (its pointer names the other
  env's row). An env with no cell in scope yet (its episode's first step) draws from every fresh
  cell. One cumulative sum per env, ``O(N C)`` per step."""
  ok = fresh(archive, spec, time_axis)
  weight = jnp.where(ok, (archive.count.astype(jnp.float32) + 1.0) ** -power, 0.0)
  u = jax.random.uniform(key, (num_envs, k))
  if episode_start is None:
    cdf = jnp.cumsum(weight)
    cells = jnp.searchsorted(cdf, u * cdf[-1], side="right")
    any_fresh = jnp.broadcast_to(cdf[-1] > 0, cells.shape)
  else:
    mine = ((archive.env[None] == jnp.arange(num_envs)[:, None])
            & (archive.written[None] >= episode_start[:, None]))  # [N, C]
    scoped = jnp.where(mine, weight[None], 0.0)
    scoped = jnp.where(scoped.sum(axis=1, keepdims=True) > 0, scoped, weight[None])
    cdf = jnp.cumsum(scoped, axis=1)
    cells = jax.vmap(lambda c, x: jnp.searchsorted(c, x, side="right"))(cdf, u * cdf[:, -1:])
    any_fresh = jnp.broadcast_to(cdf[:, -1:] > 0, cells.shape)
  cells = jnp.minimum(cells, weight.shape[0] - 1).astype(jnp.int32)
  return Draw(cells=cells, fresh=any_fresh & ok[cells], count=archive.count[cells])


def observations(spec: EnvSpec, rows: replay.Row, archive: Archive, cells: jnp.ndarray):
  """The observations the pointers of ``cells`` [...] name, read from the replay's stored rows
  ``rows`` ([num_envs, T] leading; frame stacks rebuilt as ``replay.obs_at`` does); leading shape
  that of ``cells``."""
  time_axis = rows.first.shape[1]
  flat = cells.reshape(-1)
  env, time = archive.env[flat], archive.time[flat]
  at = (time[:, None] - spec.stack + 1 + jnp.arange(spec.stack)) % time_axis  # [M, stack]
  window = jax.tree.map(lambda x: x[env[:, None], at], rows)
  obs = jax.vmap(lambda w: replay.obs_at(spec, w, jnp.asarray(spec.stack - 1)))(window)
  return jax.tree.map(lambda x: x.reshape(*cells.shape, *x.shape[1:]), obs)


def novelty(count: jnp.ndarray, coef: float) -> jnp.ndarray:
  """The goal setter's optimism for a goal in a cell visited ``count`` times: ``coef / sqrt(count
  + 1)``, fading with visits (float32, the shape of ``count``)."""
  return counts_lib.bonus(count, coef, 0.5)
