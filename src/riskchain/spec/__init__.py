"""YAML model and scenario files -> validated spec objects with positions."""
