"""Operators of the GenAI personalization project."""
