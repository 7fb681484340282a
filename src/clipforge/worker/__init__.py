"""Workers: claim a job, run its backend, encode, store, finish."""
