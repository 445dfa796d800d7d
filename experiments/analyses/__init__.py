"""Analyses of the model: calibration to a joint posterior (history matching), its targets,
global sensitivity analysis (SALib), value of information and the conditions under which the
recommendation flips (PRIM). Each runs the model only through :mod:`experiments.evaluate` and
writes its results as files; the report reads those files.
"""
