"""Airtable connector on pyairtable."""
