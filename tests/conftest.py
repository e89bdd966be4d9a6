import os

import pytest

from goalrl import config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_experiment(name: str, variant: str):
  """``experiments/<name>.py:<variant>`` as an unlocked ConfigDict."""
  return config.load_experiment(os.path.join(ROOT, "experiments", f"{name}.py"), variant)


@pytest.fixture
def experiment():
  return load_experiment
