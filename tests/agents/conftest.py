import sys
from pathlib import Path

# toy_envs.py sits next to the tests.
sys.path.insert(0, str(Path(__file__).parent))
