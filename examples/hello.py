# A tiny program for `codefuel run`: deterministic output and fuel on every run.
import random
import time

squares = [n * n for n in range(10)]
print("squares:", squares)
print("2**100 =", 2**100)
print("random:", random.randint(1, 6), "(seeded: the same on every run)")
print("virtual time:", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time())))
