"""The Lancashire evidence book: data, computation and build pipeline."""
__version__ = "0.1.0"
