#!/usr/bin/env python3
"""events_gen.py - the event stream of bench/events.sh: N new parent edges
for the W2 forest (20,000 nodes n0..n19999), each a new node n(20000+i)
whose parent is drawn, as the rig's generator draws them, from the 1000
nodes before it.  Deterministic for a seed.
   python3 bench/events_gen.py N SEED > events.txt     (lines: child parent)"""
import random
import sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(seed)
for i in range(n):
    child = 20000 + i
    parent = child - 1 - rng.randrange(1000)
    print(f"n{child} n{parent}")
