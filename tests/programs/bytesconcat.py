def build(n):
    b = b''
    for i in range(n):
        b += b'ab'
    return len(b), b[:6]
def aliasing():
    b = b'abc'             # a constant: co_consts holds a reference
    c = b                  # a second local
    b += b'd'
    keep = []
    u = b''
    for i in range(4):
        u += bytes([48 + i])
        keep.append(u)     # each intermediate value must survive unchanged
    d = {}
    k = b'key'
    k += b'1'
    d[k] = 1               # a dict key: the dict holds a reference
    k += b'2'
    v = b'xy' * 3
    view = memoryview(v)   # an exported buffer holds a reference
    v += b'z'
    return b, c, keep, d, k, bytes(view), v
def kinds():
    b = b'ab'
    h = hash(b)
    b += b'c'
    ok_hash = hash(b) == hash(b'abc') and {b'abc': 1}[b] == 1
    e = b'q'
    e += b''               # adding nothing
    s = b'x'
    for _ in range(5):
        s += s             # right is the same object
    t = b'12'
    t = t + b'34'          # plain + then store
    ba = bytearray(b'ab')
    ba += b'cd'            # bytearray keeps its own in-place add
    m = b'm'
    m += bytearray(b'n')   # bytes + bytearray: a new bytes
    return ok_hash, e, len(s), t, ba, m, type(m).__name__
class B(bytes):
    pass
def subclass():
    b = B(b'a')
    b += b'b'
    return type(b).__name__, b
def errors():
    b = b'a'
    try:
        b += 'str'
    except TypeError as e:
        return 'TypeError', b
print(build(1000), aliasing(), kinds(), subclass(), errors())
m = b''
for i in range(5):
    m += bytes([97 + i])
print(m)
