"""pmo-sync: one PMO portfolio across Jira, Microsoft Project and Airtable."""

from __future__ import annotations

__version__ = "0.1.0"
