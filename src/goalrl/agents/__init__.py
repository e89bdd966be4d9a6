"""Agents by name: an agent is a module of this package that defines ``make_agent(agent_config,
env_spec) -> Agent`` (``base.py``), and ``agent.name`` is that module's name. Adding an agent is
one file here and one in ``experiments/``: ``goalrl.config.AGENTS`` finds it (reading the files,
without importing them), and :func:`make_agent` imports it when a run asks for it. The other
modules here (``base``, ``qlearning``, ``latent``) are what agents compose."""
import importlib


def make_agent(cfg, spec):
  return importlib.import_module(f"goalrl.agents.{cfg.name}").make_agent(cfg, spec)
