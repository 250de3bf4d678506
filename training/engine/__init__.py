"""The training engine: plain Python + torch + TRL, never Django. Entry point: runner.run_training.

config.py and reporting.py import neither torch nor TRL, so the web side can validate configs.
"""
