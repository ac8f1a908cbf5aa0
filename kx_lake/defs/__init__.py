"""What exists: each module ends with a @dg.definitions function returning only what it owns."""
