"""Getting a configuration right: `pmo-sync init` writes one, `pmo-sync doctor` checks it."""
