"""Passkeys with a real software authenticator (soft-webauthn): register,
sign in (discoverable and by email), the MFA step, list / rename / delete,
and forged or replayed answers refused."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from soft_webauthn import SoftWebauthnDevice

import tessera
from conftest import KEK, PASSWORD, email

ORIGIN = "https://auth.example.test"
UV = 0x04  # authenticator data flag: user verified


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Authenticator:
    """soft-webauthn's device behind the W3C JSON forms a browser's
    `PublicKeyCredential.toJSON()` produces. soft-webauthn predates the
    user-verified flag, which Tessera requires of passkeys: it is set here
    (and the assertion signed again over the changed authenticator data)."""

    def __init__(self, origin: str = ORIGIN) -> None:
        self.device = SoftWebauthnDevice()
        self.origin = origin

    def create(self, public_key: dict) -> dict:
        options = {
            "publicKey": dict(
                public_key,
                challenge=b64d(public_key["challenge"]),
                user=dict(public_key["user"], id=b64d(public_key["user"]["id"])),
            )
        }
        made = self.device.create(options, self.origin)
        attestation = cbor.decode(made["response"]["attestationObject"])
        auth = bytearray(attestation["authData"])
        auth[32] |= UV
        attestation["authData"] = bytes(auth)
        return {
            "id": b64e(made["rawId"]),
            "rawId": b64e(made["rawId"]),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64e(made["response"]["clientDataJSON"]),
                "attestationObject": b64e(cbor.encode(attestation)),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def get(self, public_key: dict) -> dict:
        options = {"publicKey": dict(public_key, challenge=b64d(public_key["challenge"]))}
        made = self.device.get(options, self.origin)
        auth = bytearray(made["response"]["authenticatorData"])
        auth[32] |= UV
        client_data = made["response"]["clientDataJSON"]
        signature = self.device.private_key.sign(
            bytes(auth) + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64e(made["rawId"]),
            "rawId": b64e(made["rawId"]),
            "type": "public-key",
            "response": {
                "authenticatorData": b64e(bytes(auth)),
                "clientDataJSON": b64e(client_data),
                "signature": b64e(signature),
                "userHandle": b64e(self.device.user_handle),
            },
            "clientExtensionResults": {},
        }


@pytest.fixture
def pk(url: str) -> tessera.Tessera:
    """A Tessera whose relying party is auth.example.test (its issuer)."""
    return tessera.Tessera.open(url, key_encryption_key=KEK, password_hashing="fast", issuer=ORIGIN)


def registered(t: tessera.Tessera, name: str | None = "Laptop"):
    e = email()
    user = t.sign_up(e, PASSWORD).user
    device = Authenticator()
    start = t.start_passkey_registration(user.id)
    info = t.finish_passkey_registration(user.id, start.ceremony, device.create(start.public_key), name=name)
    return e, user, device, info


def test_registration_options(pk):
    user = pk.sign_up(email(), PASSWORD).user
    start = pk.start_passkey_registration(user.id)
    options = start.public_key
    assert start.ceremony.startswith("tsw_")
    assert start.ceremony not in repr(start)
    assert options["rp"]["id"] == "auth.example.test"
    assert b64d(options["user"]["id"]) == uuid.UUID(user.id).bytes
    assert options["user"]["name"] == user.email
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert {"type": "public-key", "alg": -7} in options["pubKeyCredParams"]
    assert start.to_dict()["publicKey"] == options


def test_register_then_sign_in_discoverable_and_by_email(pk):
    e, user, device, info = registered(pk)
    assert info.name == "Laptop"
    assert info.credential_id == b64e(device.device.credential_id)
    assert [p.id for p in pk.list_passkeys(user.id)] == [info.id]
    assert pk.mfa_status(user.id).passkeys == 1

    # Discoverable: no email typed; the user handle names the account.
    start = pk.start_passkey_sign_in()
    assert start.public_key["allowCredentials"] == []
    s = pk.finish_passkey_sign_in(start.ceremony, device.get(start.public_key), ip="198.51.100.4")
    assert s.user.id == user.id
    assert s.session.amr == ["hwk", "mfa"]
    pk.validate_session(s.session_token)

    # With an email: allowCredentials lists the account's passkey.
    start = pk.start_passkey_sign_in(email=e)
    assert [c["id"] for c in start.public_key["allowCredentials"]] == [info.credential_id]
    answer = device.get(start.public_key)
    assert pk.finish_passkey_sign_in(start.ceremony, answer).user.id == user.id
    # A ceremony is spent once, whatever the answer.
    with pytest.raises(tessera.InvalidToken):
        pk.finish_passkey_sign_in(start.ceremony, answer)
    assert pk.list_passkeys(user.id)[0].sign_count == 2
    assert pk.list_passkeys(user.id)[0].last_used_at is not None


def test_forged_and_malformed_answers_are_refused(pk):
    e, user, device, _ = registered(pk)
    # Another key claiming to be this user's passkey.
    impostor = Authenticator()
    impostor.device.cred_init("auth.example.test", device.device.user_handle)
    impostor.device.credential_id = device.device.credential_id
    start = pk.start_passkey_sign_in()
    with pytest.raises(tessera.InvalidCredentials):
        pk.finish_passkey_sign_in(start.ceremony, impostor.get(start.public_key))
    # An answer made for another site.
    phish = Authenticator(origin="https://evil.example")
    phish.device = device.device
    start = pk.start_passkey_sign_in()
    with pytest.raises(tessera.InvalidCredentials):
        pk.finish_passkey_sign_in(start.ceremony, phish.get(start.public_key))
    start = pk.start_passkey_sign_in()
    with pytest.raises(tessera.InvalidInput) as bad:
        pk.finish_passkey_sign_in(start.ceremony, {"id": "nope"})
    assert bad.value.field == "credential"
    with pytest.raises(tessera.InvalidToken):
        pk.finish_passkey_sign_in("tsw_forged", device.get(pk.start_passkey_sign_in().public_key))
    # An email without passkeys gets a challenge of the same shape.
    start = pk.start_passkey_sign_in(email="nobody-" + e)
    assert start.public_key["allowCredentials"]
    with pytest.raises(tessera.InvalidCredentials):
        pk.finish_passkey_sign_in(start.ceremony, device.get(start.public_key))
    # Registration: a JSON string works as well as a dict, but not garbage.
    reg = pk.start_passkey_registration(user.id)
    with pytest.raises(tessera.InvalidInput):
        pk.finish_passkey_registration(user.id, reg.ceremony, "{not json")
    reg = pk.start_passkey_registration(user.id)
    other = pk.sign_up(email(), PASSWORD).user
    with pytest.raises(tessera.InvalidToken):
        pk.finish_passkey_registration(other.id, reg.ceremony, Authenticator().create(reg.public_key))


def test_a_passkey_completes_the_mfa_step(pk):
    e, user, device, _ = registered(pk)
    # Having a passkey makes it a second factor for password sign-ins.
    with pytest.raises(tessera.MfaRequired) as raised:
        pk.sign_in_password(e, PASSWORD)
    assert raised.value.methods == ["passkey"]
    token = raised.value.mfa_token
    start = pk.start_passkey_mfa(token)
    s = pk.finish_passkey_mfa(token, start.ceremony, device.get(start.public_key))
    assert s.session.amr == ["pwd", "hwk", "mfa"]
    with pytest.raises(tessera.InvalidToken):
        pk.start_passkey_mfa(token)


def test_rename_and_delete(pk):
    e, user, device, info = registered(pk, name=None)
    assert info.name == "Passkey"
    renamed = pk.rename_passkey(user.id, info.id, "Phone")
    assert renamed.name == "Phone" and pk.list_passkeys(user.id)[0].name == "Phone"
    with pytest.raises(tessera.InvalidInput):
        pk.rename_passkey(user.id, info.id, "x" * 65)
    stranger = pk.sign_up(email(), PASSWORD).user
    with pytest.raises(tessera.NotFound):
        pk.rename_passkey(stranger.id, info.id, "Mine now")
    with pytest.raises(tessera.NotFound):
        pk.delete_passkey(stranger.id, info.id)
    pk.delete_passkey(user.id, info.id)
    assert pk.list_passkeys(user.id) == []
    with pytest.raises(tessera.NotFound):
        pk.delete_passkey(user.id, info.id)
    # The deleted passkey no longer signs in.
    start = pk.start_passkey_sign_in()
    with pytest.raises(tessera.InvalidCredentials):
        pk.finish_passkey_sign_in(start.ceremony, device.get(start.public_key))
