import hashlib
import hmac

from sanlian.core import crypto


def test_search_hash_is_the_keyed_hmac_of_the_value_every_time() -> None:
    # The keyed HMAC is made once and copied per value: a copy must not carry an earlier
    # value along, and the hash must stay what stored rows were written with.
    key = crypto._derive(b"sanlian-search-hash")
    expected = {
        v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
        for v in ("210102198005170013", "13812345678", "")
    }
    for _round in range(2):
        assert {v: crypto.search_hash(v) for v in expected} == expected
    assert crypto.search_hash("a") != crypto.search_hash("b")


def test_encrypt_round_trips_and_is_not_the_plain_text() -> None:
    token = crypto.encrypt("210102198005170013")
    assert "210102198005170013" not in token
    assert crypto.decrypt(token) == "210102198005170013"
