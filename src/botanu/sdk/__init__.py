"""The in-app runtime: runs, outcomes, context, trackers' shared state, enable/disable."""
