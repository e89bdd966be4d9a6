"""The agent protocol the training loop drives.

An agent is three pure functions over its own state pytree (params, target nets, optimiser
states, *its own replay streams*, counters). The loop never looks inside that state, so an agent
with an encoder, several networks and two replay streams plugs in exactly like DQN:

* ``init(key) -> state``
* ``act(state, ts, key, env_steps) -> (state, actions int32 [num_envs], metrics)``: ``ts`` is the
  current ``TimeStep``; the state may change (a goal agent picks goals here)
* ``observe(state, ts, actions, key, env_steps) -> (state, metrics)``: store the env step
  ``(ts, actions)`` in whatever replay the agent keeps and run the updates that are due.

``metrics`` are dicts of float32 scalars (fixed keys per agent). ``act`` metrics are averaged over
every iteration of a log interval, except keys ``sum/NAME``: event counts summed over the interval
and logged as ``NAME_per_episode`` (divided by the episodes that ended in it). ``observe`` metrics are averaged over the iterations that
updated, which the agent marks with the key ``"updated"`` (1.0 or 0.0); a key is logged as null
when no update happened in the interval.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple


class Agent(NamedTuple):
  init: Callable[..., Any]
  act: Callable[..., Any]
  observe: Callable[..., Any]
