"""Analyses over a model: scenario runs and risk tables."""
