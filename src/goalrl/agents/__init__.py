"""Agents by name. Each module exposes ``make_agent(agent_config, env_spec) -> Agent``."""
from goalrl.agents import dqn, goal_agent, optimistic_dqn, rnd_dqn

REGISTRY = {
    "dqn": dqn.make_agent,
    "optimistic_dqn": optimistic_dqn.make_agent,
    "goal_agent": goal_agent.make_agent,
    "rnd_dqn": rnd_dqn.make_agent,
}


def make_agent(cfg, spec):
  return REGISTRY[cfg.name](cfg, spec)
