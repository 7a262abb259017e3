"""Planner Premium (Project for the web, Dataverse) connector."""
