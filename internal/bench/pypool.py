"""ppBench with Python's multiprocessing: n jobs of SIZE bytes, each echoed
by one of JOBS worker processes, through Pool.imap_unordered with the given
chunksize. Prints: replies, reply bytes, total ns (pool creation to last
reply, pool shut down), steady-state ns (first reply to the end).

usage: python3 pypool.py N SIZE JOBS CHUNKSIZE
"""
import multiprocessing as mp
import sys
import time


def work(x):
    return x


def main():
    n, size, jobs, chunk = map(int, sys.argv[1:5])
    payload = (b"abcdefghijklmnopqrstuvwxyz" * 4)[:size]
    t0 = time.perf_counter()
    first = None
    got = nbytes = 0
    with mp.Pool(jobs) as pool:
        for r in pool.imap_unordered(work, (payload for _ in range(n)), chunksize=chunk):
            if first is None:
                first = time.perf_counter()
            got += 1
            nbytes += len(r)
    t1 = time.perf_counter()
    print(got, nbytes, int((t1 - t0) * 1e9), int((t1 - (first or t1)) * 1e9))


if __name__ == "__main__":
    main()
