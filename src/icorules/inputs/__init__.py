"""Reading input: documents, limits on them, the proposal and market formats, ODS import."""
