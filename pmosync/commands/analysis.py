"""Commands: analysis (registered by importing this module from pmosync.cli)."""
