"""Analyses of trained networks: representation theory (irreps), and more as they land."""
