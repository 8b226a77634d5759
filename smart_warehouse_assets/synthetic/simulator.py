def simulate(urls, *, days=1, seed=20260401, log=print): raise NotImplementedError
