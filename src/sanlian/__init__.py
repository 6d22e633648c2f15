"""Sanlian (三联): the platform for the unions' Three Links model of community service."""
