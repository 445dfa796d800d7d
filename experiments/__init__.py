"""Hydra entry points: build a model from a config, run it, write tidy outputs, make reports."""
