"""Assets by layer: raw (landed files), staging (typed, clean), marts (analytics), report."""
