"""Reading date windows of a collection from MongoDB (or any wire-compatible server)."""
