"""embtree: class hierarchies in the embedding spaces of vision encoders.

One module per concept, all pure functions on numpy arrays (no Snakemake here):
``datasets``, ``encoders``, ``distances``, ``caec``, ``stats``, ``trees``,
``wordnet``, ``l2h``, ``flat``, ``metrics``, ``report``; ``io`` holds the file
formats and atomic writers.
"""

__version__ = "0.1.0"
