"""carbon-cpn: Gymnasium environments for carbon-aware scheduling of Computing Power Networks."""

__version__ = "0.1.0"
