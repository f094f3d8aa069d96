"""Analysis: the partner graph and its measures, and the facts rules read."""
