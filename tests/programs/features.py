# Python features HumanEval/MBPP solutions rely on. The expected output is CPython's.
import collections, functools, hashlib, heapq, itertools, math, re, bisect, string, json, copy
from fractions import Fraction
from decimal import Decimal
from typing import List, Optional


class Shape:
    def __init__(self, name: str) -> None:
        self.name = name

    def area(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, area={self.area():.3f})"


class Circle(Shape):
    def __init__(self, r: float) -> None:
        super().__init__("circle")
        self.r = r

    def area(self) -> float:
        return math.pi * self.r ** 2


def fib() :
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


@functools.lru_cache(maxsize=None)
def ways(n: int) -> int:
    return 1 if n <= 1 else ways(n - 1) + ways(n - 2)


print(Circle(2.0), [Circle(1)])
print(list(itertools.islice(fib(), 15)))
print({k: v for k, v in zip("abc", range(3))}, [x * x for x in range(6) if x % 2], {x % 3 for x in range(10)})
print(f"{3.14159:.2f} {42:08b} {'left':<8}| {255:#x} {1e-7} {1/3} {0.1 + 0.2} {2.5:e}")
print(2 ** 200, -7 // 2, -7 % 2, divmod(-7, 2), pow(3, 200, 10 ** 9 + 7), int("1" * 50) % 97)
print(repr(1.0), repr(1e16), repr(123456789.123456789), float("inf"), -0.0, round(2.675, 2), round(0.5), round(1.5))
print(sorted(["banana", "Apple", "cherry"], key=str.lower), sorted([(1, "b"), (1, "a"), (0, "z")], reverse=True))
print(sorted({"x": 3, "y": 1, "z": 2}.items(), key=lambda kv: (-kv[1], kv[0])))
print(re.findall(r"\d+", "a1b22c333"), re.sub(r"(\w)(\w*)", lambda m: m.group(1).upper() + m.group(2), "hello big world"))
print(re.match(r"^[a-z]+@[a-z]+\.com$", "me@site.com") is not None, re.split(r"[,;]\s*", "a, b;c"))
print(hashlib.md5(b"codefuel").hexdigest(), hashlib.sha256("x".encode()).hexdigest()[:16])
c = collections.Counter("mississippi")
print(c.most_common(2), list(collections.OrderedDict(a=1).items()), collections.deque([1, 2, 3], maxlen=2))
d = collections.defaultdict(list); d["k"].append(1); print(dict(d))
Point = collections.namedtuple("Point", "x y"); print(Point(1, 2), Point(1, 2)._asdict())
print(list(itertools.permutations("abc", 2))[:4], list(itertools.combinations(range(4), 3)), list(itertools.accumulate([1, 2, 3, 4])))
print(list(itertools.product([0, 1], repeat=2)), [(k, len(list(g))) for k, g in itertools.groupby("aaabbc")])
print(ways(80), functools.reduce(lambda a, b: a * b, range(1, 21)), math.gcd(12, 18), math.lcm(4, 6))
print(math.comb(50, 25), math.factorial(25), math.isqrt(10 ** 20), math.sqrt(2), math.floor(-2.5), math.ceil(2.1), math.log(8, 2))
h = [5, 1, 4, 2]; heapq.heapify(h); print([heapq.heappop(h) for _ in range(4)], heapq.nlargest(2, [3, 9, 4]))
print(bisect.bisect_left([1, 2, 2, 3], 2), bisect.bisect_right([1, 2, 2, 3], 2), string.ascii_lowercase[:5], string.punctuation[:5])
print(json.dumps({"b": [1, 2.5, None, True], "a": "é"}, sort_keys=True), json.loads('{"x": [1, {"y": 2}]}'))
nested = [[1, 2], [3]]; deep = copy.deepcopy(nested); deep[0].append(9); print(nested, deep)
print(Fraction(3, 4) + Fraction(1, 6), Decimal("0.1") + Decimal("0.2"), complex(1, 2) * 1j, abs(-3 + 4j))
print("  padded ".strip(), "a,b,,c".split(","), "-".join(map(str, range(5))), "abc"[::-1], "Hello".swapcase(), "ab" * 3)
print(any(x > 3 for x in [1, 5]), all([]), max([3, 1, 2], key=lambda v: -v), min("bca"), sum([0.1] * 10), list(enumerate("ab", 1)))
def opt(xs: List[int]) -> Optional[int]:
    return max(xs) if xs else None
print(opt([]), opt([4, 8]), isinstance(True, int), type(3 / 2).__name__, chr(65) + str(ord("a")), bin(10), oct(8), hex(255))
try:
    {}["missing"]
except KeyError as e:
    print("KeyError", e)
print([1, 2, 3].index(2), (1, 2) < (1, 3), [3, 1, 2].sort() is None, list(reversed(range(3))), set("aab") == {"a", "b"})
