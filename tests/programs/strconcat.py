import sys
def build(n):
    s = ''
    for i in range(n):
        s += 'ab'
    return s
def aliasing():
    s = 'abc'              # a constant: co_consts holds a reference
    t = s                  # a second local
    s += 'd'
    keep = []
    u = ''
    for i in range(4):
        u += str(i)
        keep.append(u)     # each intermediate string must survive unchanged
    d = {}
    k = 'key'
    k += '1'
    d[k] = 1               # a dict key: the dict holds a reference
    k += '2'
    return s, t, keep, d, k
def kinds():
    s = 'ab'
    h = hash(s)
    s += 'c'               # hash cache must be reset
    ok_hash = hash(s) == hash('abc') and {'abc': 1}[s] == 1
    s = 'ü' * 10
    _ = s[5]               # builds the code point index on a non-ASCII string
    s += 'x'
    s += '€'
    idx = (s[10], s[11], len(s), s.isascii())
    w = 'é'
    w += '\ud800'
    w += '\udc00'          # lone surrogates stay two code points
    return ok_hash, idx, len(w), [hex(ord(c)) for c in w]
def prepend(n):
    s = ''
    for i in range(n):
        s = str(i % 10) + s  # left is not the local: not in place (as CPython)
    return s[:5]
def same(n):
    s = 'x'
    for i in range(n):
        s += s             # right is the same object: not in place
    return len(s)
class S(str):
    pass
def subclass():
    s = S('a')
    s += 'b'
    return type(s).__name__, s
print(len(build(1000)), aliasing(), kinds(), prepend(12), same(10), subclass())
m = ''
for i in range(5):
    m += chr(97 + i)
print(m, 'abc' + 'd', sys.intern('ab' + 'cd'))
