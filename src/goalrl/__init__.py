"""goalrl: goal-setting and optimistic exploration for sparse-reward RL, in JAX."""
__version__ = "0.1.0"
