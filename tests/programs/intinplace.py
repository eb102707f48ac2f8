import itertools
def counting(n):
    s = 0
    for i in range(n):
        s += i
    k = n
    while k > 1000:
        k -= 7
    return s, k, i
def aliasing():
    a = 1000
    b = a                  # a second local holds the int
    a += 1
    keep = []
    t = 5000
    for _ in range(3):
        t += 10
        keep.append(t)     # each intermediate int must survive unchanged
    d = {'k': 7000}
    v = d['k']             # a dict value
    v += 1
    x = 9000
    snapshot = locals()    # a snapshot of the locals holds the int
    x += 1
    same = 4000
    same = same + same     # right is the same object
    return a, b, keep, d['k'], v, snapshot['x'], x, same
def ranges():
    keep = []
    for i in range(1000, 1004):
        keep.append(i)     # the list holds every value FOR_ITER produced
    defaults = []
    for j in range(2000, 2003):
        defaults.append(lambda j=j: j)
    last = None
    for last in range(3000, 3005):
        pass
    return keep, [f() for f in defaults], last
def edges():
    small = 250
    for _ in range(10):
        small += 1         # crosses the cached range: 256 stays the cached object
    cached = small - 4 is int('256')
    big = 2 ** 62
    for _ in range(4):
        big += 2 ** 61     # past i64: big ints, never in place
    neg = -1000
    for _ in range(3):
        neg -= 1000
    class I(int):
        pass
    sub = I(1000)
    sub += 1               # not an exact int
    flag = True
    flag += 1000           # bool is not an exact int
    return small, cached, big, neg, type(sub).__name__, sub, flag
def gen():
    t = 1000
    while True:
        t += 1
        yield t
print(counting(100000), aliasing(), ranges(), edges(), list(itertools.islice(gen(), 3)))
m = 0
for i in range(1000, 1010):
    m += i                 # module level: STORE_NAME, not a local
print(m, i)
