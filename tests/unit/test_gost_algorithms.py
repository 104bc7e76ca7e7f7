"""GOST algorithms against the published examples (KZ-5).

Sources: GOST R 34.11-2012 examples M1/M2 (RFC 6986 §10, written there as
big-endian numbers, hence the reversals), GOST R 34.11-94 with the test
parameters (RFC 5831 §7.3), GOST R 34.10-2012 appendix A examples 1 and 2
(RFC 7091 §7), and gostcrypto as an independent implementation.
"""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidSignature

from keys.gost import (
    CURVES,
    NCA,
    RFC4491,
    TC26_512_A,
    GostPrivateKey,
    GostPublicKey,
    gost34311,
    streebog256,
    streebog512,
)
from keys.gost import _streebog_py, streebog
from keys.gost.curves import Curve

M1 = bytes.fromhex("323130393837363534333231303938373635343332313039383736353433323130393837363534"
                   "333231303938373635343332313039383736353433323130")[::-1]
M2 = bytes.fromhex("fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2f120fff0eeec20f1"
                   "20faf2fee5e2202ce8f6f3ede220e8e6eee1e8f0f2d1202ce8f0f2e5e220e5d1")[::-1]
STREEBOG_EXAMPLES = [
    (M1, 64, "486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00"
             "fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b"),
    (M1, 32, "00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d"),
    (M2, 64, "28fbc9bada033b1460642bdcddb90c3fb3e56c497ccd0f62b8a2ad4935e85f03"
             "7613966de4ee00531ae60f3b5a47f8dae06915d5f2f194996fcabf2622e6881e"),
    (M2, 32, "508f7e553c06501d749a66fc28c6cac0b005746d97537fa85d9e40904efed29d"),
]


def test_m2_is_the_standards_text_in_cp1251() -> None:
    assert M2 == "Се ветри, Стрибожи внуци, веютъ с моря стрелами на храбрыя плъкы Игоревы".encode("cp1251")


@pytest.mark.parametrize("message,size,expected", STREEBOG_EXAMPLES)
def test_streebog_matches_the_standards_examples(message: bytes, size: int, expected: str) -> None:
    want = bytes.fromhex(expected)[::-1]
    assert streebog.Streebog(size, message).digest() == want
    assert _streebog_py.Streebog(size, message).digest() == want


def test_streebog_native_module_is_built() -> None:
    """The install builds keys.gost._native; without it hashing is ~100x slower (DECISIONS.md)."""
    assert streebog.NATIVE


def test_streebog_native_and_pure_python_agree_at_every_block_boundary() -> None:
    for length in (0, 1, 63, 64, 65, 127, 128, 129, 200, 1000):
        data = os.urandom(length)
        for size in (32, 64):
            native = streebog.Streebog(size, data).digest()
            assert native == _streebog_py.Streebog(size, data).digest(), (length, size)
            piecewise = streebog.Streebog(size)
            for start in range(0, length, 7):
                piecewise.update(data[start:start + 7])
            copy = piecewise.copy()
            assert piecewise.digest() == native == copy.digest()


def test_streebog_agrees_with_gostcrypto() -> None:
    gosthash = pytest.importorskip("gostcrypto.gosthash")
    data = os.urandom(3000)
    assert streebog512(data).digest() == bytes(gosthash.new("streebog512", data=data).digest())
    assert streebog256(data).digest() == bytes(gosthash.new("streebog256", data=data).digest())


@pytest.mark.parametrize("message,expected", [
    (b"", "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d"),
    (b"abc", "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"),
    (b"message digest", "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d"),
    (b"This is message, length=32 bytes", "b1c466d37519b82e8319819ff32595e047a28cb6f83eff1c6916a815a637fffa"),
    (b"Suppose the original message has length = 50 bytes",
     "471aba57a60a770d3a76130635c1fbea4ef14de51f78b4ae57dd893b62f55208"),
    (b"U" * 128, "53a3a3ed25180cef0c1d85a074273e551c25660a87062a52d926a9e8fe5733a4"),
])
def test_gost34311_95_matches_gost_r_34_11_94_test_parameter_examples(message: bytes, expected: str) -> None:
    assert gost34311(message).hexdigest() == expected
    split = gost34311(message[:5])
    split.update(message[5:])
    assert split.hexdigest() == expected


# GOST R 34.10-2012 appendix A (RFC 7091 §7.1 and §7.2).
EXAMPLE_1 = Curve(
    "GOST R 34.10-2012 example 1",
    p=0x8000000000000000000000000000000000000000000000000000000000000431, a=7,
    b=0x5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E,
    q=0x8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3, x=2,
    y=0x08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8)
EXAMPLE_2 = Curve(
    "GOST R 34.10-2012 example 2",
    p=int("4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
          "F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373", 16), a=7,
    b=int("1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43"
          "61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC", 16),
    q=int("4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
          "A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF", 16),
    x=int("24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762"
          "FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A", 16),
    y=int("2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C"
          "83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E", 16))

EXAMPLES = [
    (EXAMPLE_1, "7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28",
     "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B",
     "2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5",
     "77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3",
     "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493",
     "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40"),
    (EXAMPLE_2, "0BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B1020"
                "72E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4",
     "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD"
     "5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1",
     "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C591"
     "7184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C",
     "0359E7F4B1410FEACC570456C6801496946312120B39D019D455986E364F3658"
     "86748ED7A44B3E794434006011842286212273A6D14CF70EA3AF71BB1AE679F1",
     "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD3"
     "5492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36",
     "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5"
     "823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A"),
]


@pytest.mark.parametrize("curve,d,qx,e,k,r,s", EXAMPLES, ids=["256", "512"])
def test_gost_r_34_10_2012_appendix_examples(curve, d, qx, e, k, r, s) -> None:
    key = GostPrivateKey(curve, int(d, 16))
    public = key.public_key()
    assert public.x == int(qx, 16)
    digest = int(e, 16).to_bytes(curve.size, "little")  # α is the digest read little-endian
    signature = key.sign_digest(digest, k=int(k, 16))
    assert signature == int(r, 16).to_bytes(curve.size, "little") + int(s, 16).to_bytes(curve.size, "little")
    public.verify_digest(signature, digest)


def test_rfc4491_layout_is_the_nca_layout_reversed() -> None:
    key = GostPrivateKey(EXAMPLE_1, int(EXAMPLES[0][1], 16))
    digest = int(EXAMPLES[0][3], 16).to_bytes(32, "little")
    nca = key.sign_digest(digest, layout=NCA, k=int(EXAMPLES[0][4], 16))
    rfc = key.sign_digest(digest, layout=RFC4491, k=int(EXAMPLES[0][4], 16))
    assert rfc == nca[::-1]
    assert rfc[:32] == bytes.fromhex(EXAMPLES[0][6])  # s ‖ r, big-endian halves
    key.public_key().verify_digest(rfc, digest, RFC4491)
    with pytest.raises(InvalidSignature):
        key.public_key().verify_digest(nca, digest, RFC4491)


@pytest.mark.parametrize("name", sorted(CURVES))
def test_sign_verify_round_trip_and_rejection_on_every_curve(name: str) -> None:
    curve = CURVES[name]
    key = GostPrivateKey.generate(curve)
    data = b"loan contract v1"
    signature = key.sign(data)
    public = GostPublicKey.from_bytes(curve, key.public_key().to_bytes())
    public.verify(signature, data)
    with pytest.raises(InvalidSignature):
        public.verify(signature, data + b".")
    flipped = bytearray(signature)
    flipped[5] ^= 0x01
    with pytest.raises(InvalidSignature):
        public.verify(bytes(flipped), data)
    other = GostPrivateKey.generate(curve).public_key()
    with pytest.raises(InvalidSignature):
        other.verify(signature, data)


def test_verify_refuses_out_of_range_and_wrong_length_signatures() -> None:
    public = GostPrivateKey.generate(TC26_512_A).public_key()
    with pytest.raises(InvalidSignature):
        public.verify_digest(bytes(128), bytes(64))
    with pytest.raises(InvalidSignature):
        public.verify_digest(bytes(64), bytes(64))


def test_public_key_off_the_curve_is_refused() -> None:
    public = GostPrivateKey.generate(TC26_512_A).public_key()
    with pytest.raises(ValueError):
        GostPublicKey(TC26_512_A, public.x, (public.y + 1) % TC26_512_A.p)


def test_verification_agrees_with_gostcrypto_on_our_signature() -> None:
    gostsignature = pytest.importorskip("gostcrypto.gostsignature")
    key = GostPrivateKey.generate(TC26_512_A)
    digest = streebog512(b"document").digest()
    signature = key.sign_digest(digest)
    public = key.public_key()
    theirs = gostsignature.new(gostsignature.MODE_512,
                               gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"])
    # gostcrypto: big-endian X ‖ Y, digest as a big-endian number, r ‖ s big-endian.
    assert theirs.verify(bytearray(public.x.to_bytes(64, "big") + public.y.to_bytes(64, "big")),
                         bytearray(digest[::-1]), bytearray(signature[64:] + signature[:64])[::-1])
