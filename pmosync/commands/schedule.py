"""Commands: schedule (registered by importing this module from pmosync.cli)."""
