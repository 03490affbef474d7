"""Driver traces: JSON Lines records of both edges (SCS in/out, GC in/out)."""
