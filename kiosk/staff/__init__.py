"""Staff mode core (no widgets): accounts and PINs, the session, queue queries, overrides."""
