"""Vault records are standard compact JWEs (dir + A256GCM): jwcrypto reads ours, we read its."""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwe, jwk

from seoul_vc._encoding import b64url_encode
from seoul_vc.errors import Code, StorageError
from seoul_vc.wallet.vault import DataKey


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


def _jwk(key: DataKey) -> jwk.JWK:
    return jwk.JWK(kty="oct", k=b64url_encode(key.secret))


def test_jwcrypto_opens_a_sealed_record(key: DataKey) -> None:
    sealed = key.seal(b'{"claim":"value"}', context="w1/credential/c1")
    parsed = jwe.JWE()
    parsed.deserialize(sealed, key=_jwk(key))
    assert parsed.payload == b'{"claim":"value"}'
    assert json.loads(parsed.objects["protected"]) == {
        "alg": "dir",
        "enc": "A256GCM",
        "ctx": "w1/credential/c1",
    }


def test_a_jwcrypto_record_opens(key: DataKey) -> None:
    header = json.dumps(
        {"alg": "dir", "enc": "A256GCM", "ctx": "w1/event/1"}, separators=(",", ":")
    )
    token = jwe.JWE(b"history", protected=header)
    token.add_recipient(_jwk(key))
    assert key.open(token.serialize(compact=True), context="w1/event/1") == b"history"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BA"),  # the tag
        lambda t: ".".join([*t.split(".")[:3], t.split(".")[3][::-1], t.split(".")[4]]),
        lambda t: ".".join([t.split(".")[0], "AAAA", *t.split(".")[2:]]),  # an encrypted key
        lambda t: ".".join([t.split(".")[0], "", "AAAA", *t.split(".")[3:]]),  # a short iv
        lambda t: t + "=",
    ],
)
def test_altered_records_are_corrupt(key: DataKey, tamper: object) -> None:
    sealed = key.seal(b"secret", context="w1/credential/c1")
    with pytest.raises(StorageError) as raised:
        key.open(tamper(sealed), context="w1/credential/c1")  # type: ignore[operator]
    assert raised.value.code is Code.VAULT_RECORD_CORRUPT


def test_a_record_moved_to_another_name_is_corrupt(key: DataKey) -> None:
    sealed = key.seal(b"secret", context="w1/credential/c1")
    with pytest.raises(StorageError):
        key.open(sealed, context="w1/credential/c2")


def test_another_key_cannot_open(key: DataKey) -> None:
    sealed = key.seal(b"secret", context="c")
    with pytest.raises(StorageError):
        DataKey.generate().open(sealed, context="c")
