"""Jira Cloud (REST v3/v2) and Data Center (v2) through the ``jira`` client library."""
