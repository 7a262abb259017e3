"""Renderers of run reports and portfolio status."""
