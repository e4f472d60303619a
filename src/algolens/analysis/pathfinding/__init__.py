"""Path-finding analyses: the mechanism finder (Brinkmann et al.)."""
