"""Exact inference: the fast batched engine and the pgmpy bridge."""
