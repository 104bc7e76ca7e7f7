"""The elliptic curves of GOST R 34.10-2012 / ST RK GOST R 34.10-2015.

Parameters are those of R 1323565.1.024-2019 and RFC 7836 Appendix A, in
short Weierstrass form y² = x³ + ax + b over GF(p) (the twisted Edwards
sets 256-A and 512-C are given by the Weierstrass equivalents those
documents print). ``q`` is the order of the base point; ``cofactor`` is
the group order divided by ``q``.

The Kazakh parameter OIDs of DOMAIN.md KZ-5 name the same curves as the
TC26 and CryptoPro ones: 1.2.398.3.10.1.1.2.2.1 is
id-tc26-gost-3410-12-512-paramSetA, 1.2.398.3.10.1.1.2.1.1 is
id-tc26-gost-3410-2012-256-paramSetA, 1.2.398.3.10.1.1.1.1.1 is
id-GostR3410-2001-CryptoPro-A-ParamSet (= id-tc26-gost-3410-2012-256-paramSetB).
The NCA test certificates verify on them (tests/vectors/nca-rk).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    cofactor: int = 1
    size: int = field(init=False)  # bytes of a coordinate, a scalar and each half of a signature

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", 64 if self.p.bit_length() > 256 else 32)
        if not self.contains(self.x, self.y):
            raise ValueError(f"the base point of {self.name} is not on the curve")

    def contains(self, x: int, y: int) -> bool:
        p = self.p
        return 0 <= x < p and 0 <= y < p and (y * y - (x * x + self.a) * x - self.b) % p == 0

    def __repr__(self) -> str:
        return f"Curve({self.name})"


def _h(text: str) -> int:
    return int(text.replace(" ", ""), 16)


_P256 = (1 << 256) - 617

TC26_256_A = Curve(
    "id-tc26-gost-3410-2012-256-paramSetA",
    p=_P256,
    a=_h("c2173f1513981673af4892c23035a27ce25e2013bf95aa33b22c656f277e7335"),
    b=_h("295f9bae7428ed9ccc20e7c359a9d41a22fccd9108e17bf7ba9337a6f8ae9513"),
    q=_h("400000000000000000000000000000000fd8cddfc87b6635c115af556c360c67"),
    x=_h("91e38443a5e82c0d880923425712b2bb658b9196932e02c78b2582fe742daa28"),
    y=_h("32879423ab1a0375895786c4bb46e9565fde0b5344766740af268adb32322e5c"),
    cofactor=4,
)

# Also id-GostR3410-2001-CryptoPro-A-ParamSet (RFC 4357 §11.4).
TC26_256_B = Curve(
    "id-tc26-gost-3410-2012-256-paramSetB",
    p=_P256,
    a=_P256 - 3,
    b=0xA6,
    q=_h("ffffffffffffffffffffffffffffffff6c611070995ad10045841b09b761b893"),
    x=1,
    y=_h("8d91e471e0989cda27df505a453f2b7635294f2ddf23e3b122acc99c9e9f1e14"),
)

# Also id-GostR3410-2001-CryptoPro-B-ParamSet.
TC26_256_C = Curve(
    "id-tc26-gost-3410-2012-256-paramSetC",
    p=_h("8000000000000000000000000000000000000000000000000000000000000c99"),
    a=_h("8000000000000000000000000000000000000000000000000000000000000c96"),
    b=_h("3e1af419a269a5f866a7d3c25c3df80ae979259373ff2b182f49d4ce7e1bbc8b"),
    q=_h("800000000000000000000000000000015f700cfff1a624e5e497161bcc8a198f"),
    x=1,
    y=_h("3fa8124359f96680b83d1c3eb2c070e5c545c9858d03ecfb744bf8d717717efc"),
)

# Also id-GostR3410-2001-CryptoPro-C-ParamSet.
TC26_256_D = Curve(
    "id-tc26-gost-3410-2012-256-paramSetD",
    p=_h("9b9f605f5a858107ab1ec85e6b41c8aacf846e86789051d37998f7b9022d759b"),
    a=_h("9b9f605f5a858107ab1ec85e6b41c8aacf846e86789051d37998f7b9022d7598"),
    b=0x805A,
    q=_h("9b9f605f5a858107ab1ec85e6b41c8aa582ca3511eddfb74f02f3a6598980bb9"),
    x=0,
    y=_h("41ece55743711a8c3cbf3783cd08c0ee4d4dc440d4641a8f366e550dfdb3bb67"),
)

_P512 = (1 << 512) - 569

TC26_512_A = Curve(
    "id-tc26-gost-3410-12-512-paramSetA",
    p=_P512,
    a=_P512 - 3,
    b=_h("e8c2505dedfc86ddc1bd0b2b6667f1da34b82574761cb0e879bd081cfd0b6265"
         "ee3cb090f30d27614cb4574010da90dd862ef9d4ebee4761503190785a71c760"),
    q=_h("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
         "27e69532f48d89116ff22b8d4e0560609b4b38abfad2b85dcacdb1411f10b275"),
    x=3,
    y=_h("7503cfe87a836ae3a61b8816e25450e6ce5e1c93acf1abc1778064fdcbefa921"
         "df1626be4fd036e93d75e6a50e3a41e98028fe5fc235f5b889a589cb5215f2a4"),
)

TC26_512_B = Curve(
    "id-tc26-gost-3410-12-512-paramSetB",
    p=(1 << 511) + 0x6F,
    a=(1 << 511) + 0x6C,
    b=_h("687d1b459dc841457e3e06cf6f5e2517b97c7d614af138bcbf85dc806c4b289f"
         "3e965d2db1416d217f8b276fad1ab69c50f78bee1fa3106efb8ccbc7c5140116"),
    q=_h("8000000000000000000000000000000000000000000000000000000000000001"
         "49a1ec142565a545acfdb77bd9d40cfa8b996712101bea0ec6346c54374f25bd"),
    x=2,
    y=_h("1a8f7eda389b094c2c071e3647a8940f3c123b697578c213be6dd9e6c8ec7335"
         "dcb228fd1edf4a39152cbcaaf8c0398828041055f94ceeec7e21340780fe41bd"),
)

TC26_512_C = Curve(
    "id-tc26-gost-3410-2012-512-paramSetC",
    p=_P512,
    a=_h("dc9203e514a721875485a529d2c722fb187bc8980eb866644de41c68e1430645"
         "46e861c0e2c9edd92ade71f46fcf50ff2ad97f951fda9f2a2eb6546f39689bd3"),
    b=_h("b4c4ee28cebc6c2c8ac12952cf37f16ac7efb6a9f69f4b57ffda2e4f0de5ade0"
         "38cbc2fff719d2c18de0284b8bfef3b52b8cc7a5f5bf0a3c8d2319a5312557e1"),
    q=_h("3fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
         "c98cdba46506ab004c33a9ff5147502cc8eda9e7a769a12694623cef47f023ed"),
    x=_h("e2e31edfc23de7bdebe241ce593ef5de2295b7a9cbaef021d385f7074cea043a"
         "a27272a7ae602bf2a7b9033db9ed3610c6fb85487eae97aac5bc7928c1950148"),
    y=_h("f5ce40d95b5eb899abbccff5911cb8577939804d6527378b8c108c3d2090ff9b"
         "e18e2d33e3021ed2ef32d85822423b6304f726aa854bae07d0396e9a9addc40f"),
    cofactor=4,
)

CRYPTOPRO_A = TC26_256_B

CURVES = {c.name: c for c in (TC26_256_A, TC26_256_B, TC26_256_C, TC26_256_D, TC26_512_A, TC26_512_B, TC26_512_C)}
