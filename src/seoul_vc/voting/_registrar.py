"""The registrar: verifies registration presentations and records poll-scoped nullifiers.

Part of :mod:`seoul_vc.voting`, which re-exports :class:`Registrar`: steps 2 and 3 of the
flow in its docstring (a challenge bound to the registrar, the poll and the voter key; a
verified presentation that discloses exactly the claims the poll needs; the nullifier
appended as ``voting.register``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from seoul_vc._json import JSONValue
from seoul_vc.clock import Clock
from seoul_vc.credentials.verify import Verifier
from seoul_vc.errors import (
    Code,
    ConfigurationError,
    MalformedInputError,
    PolicyError,
    StateConflictError,
    VerificationError,
)
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger.apps.voting import POLL_ID_RE, REGISTER
from seoul_vc.ledger.entry import public_key_of_signer, sign_entry, signer_did
from seoul_vc.voting._polls import (
    _MIN_SECRET_BYTES,
    _now,
    _poll_state,
    derive_nullifier,
    get_poll,
    registration_audience,
)
from seoul_vc.voting._values import PSEUDONYM_CLAIM, Registration, RegistrationChallenge

if TYPE_CHECKING:
    from seoul_vc.ledger.log import Ledger


def _leaf_paths(value: JSONValue, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        for name, child in value.items():
            yield from _leaf_paths(child, (*prefix, name))
    else:
        yield prefix


def _has(claims: Mapping[str, JSONValue], path: tuple[str, ...]) -> bool:
    current: JSONValue = dict(claims)
    for segment in path:
        if not isinstance(current, dict) or segment not in current:
            return False
        current = current[segment]
    return True


class Registrar:
    """The city's poll registrar: verifies presentations, records nullifiers.

    Args:
        key: the registrar's signing key; its DID is named by the polls it registers for
            and must hold the ``voting.register`` grant.
        nullifier_secret: 32+ random bytes, kept secret and unchanged for each poll's life.
        verifier: verifies registration presentations (trust registry, status...). Its
            nonce store issues the challenges' nonces.
        clock: the time source of registration entries.

    Raises:
        ConfigurationError: ``bad_argument`` for a short secret.
    """

    def __init__(
        self,
        key: PrivateKey,
        *,
        nullifier_secret: bytes,
        verifier: Verifier,
        clock: Clock | None = None,
    ) -> None:
        if len(nullifier_secret) < _MIN_SECRET_BYTES:
            raise ConfigurationError(Code.BAD_ARGUMENT, "the nullifier secret needs 32+ bytes")
        self._key = key
        self._secret = nullifier_secret
        self._verifier = verifier
        self._clock = clock
        self.did = signer_did(key.public_key)

    def challenge(self, poll_id: str, voter: str) -> RegistrationChallenge:
        """Return the audience and a fresh single-use nonce for a registration.

        Raises:
            MalformedInputError: ``malformed`` for a bad poll id or voter DID.
        """
        _check_request(poll_id, voter)
        return RegistrationChallenge(
            aud=registration_audience(self.did, poll_id, voter),
            nonce=self._verifier.new_nonce(),
        )

    def register(
        self, ledger: Ledger, poll_id: str, presentation: str, *, voter: str, nonce: str
    ) -> Registration:
        """Verify a registration presentation and put ``voter`` on the poll's roll.

        Steps: (1) the poll exists, is open for registration and names this registrar;
        (2) the presentation verifies for the registration audience and ``nonce``
        (:meth:`Verifier.verify`: signature, trust, validity, schema, status, holder
        binding); (3) it is of the poll's credential type; (4) it discloses every claim
        the rule needs and the pseudonym, (5) and nothing else; (6) the rule holds;
        (7) the nullifier is derived and ``voting.register`` appended (the ledger refuses a
        used nullifier or voter key inside the append transaction).

        Raises:
            StateConflictError: ``unknown_poll``, ``poll_closed``, ``nullifier_used``,
                ``already_registered``, ``nonce_replayed``.
            PolicyError: ``untrusted_signer`` (another registrar's poll),
                ``claims_not_disclosed``, ``excess_disclosure``, ``not_eligible``, and the
                verifier's policy codes.
            VerificationError: ``wrong_type`` and the verifier's codes.
            MalformedInputError: a malformed presentation, poll id or voter DID.
        """
        # (1) The poll, as opened; the ledger checks the window and the close again.
        _check_request(poll_id, voter)
        state = _poll_state(ledger, poll_id)
        if state["closed"] is True:
            raise StateConflictError(Code.POLL_CLOSED, "the poll is closed", poll=poll_id)
        poll = get_poll(ledger, poll_id)
        if poll.registrar != self.did:
            raise PolicyError(Code.UNTRUSTED_SIGNER, "this poll names another registrar")
        # (2) The presentation, bound to this registrar, poll and voter key.
        aud = registration_audience(self.did, poll_id, voter)
        report = self._verifier.verify(presentation, aud=aud, nonce=nonce)
        # (3) Of the type the poll asks for.
        if report.credential_type != poll.credential_type:
            raise VerificationError(Code.WRONG_TYPE, "not the credential type the poll needs")
        claims = report.claims
        # (4) Every claim the rule reads, and the pseudonym, disclosed.
        needed = {tuple(path.split(".")) for path in poll.rule.claims()} | {(PSEUDONYM_CLAIM,)}
        for path in sorted(needed):
            if not _has(claims, path):
                raise PolicyError(
                    Code.CLAIMS_NOT_DISCLOSED,
                    "the presentation lacks a claim the poll needs",
                    claim=".".join(path),
                )
        # (5) Nothing more: a disclosed leaf must be a needed path or lie under one. The
        # subject ``id`` (the holder DID) is the binding itself and no format hides it.
        for leaf in _leaf_paths(dict(claims), ()):
            if leaf != ("id",) and not any(leaf[: len(p)] == p for p in needed):
                raise PolicyError(
                    Code.EXCESS_DISCLOSURE,
                    "the presentation discloses a claim the poll does not need",
                    claim=".".join(leaf)[:128],
                )
        # (6) Eligibility.
        if not poll.rule.evaluate(claims):
            raise PolicyError(Code.NOT_ELIGIBLE, "the disclosed claims do not meet the rule")
        # (7) The nullifier, recorded.
        pseudonym = claims[PSEUDONYM_CLAIM]
        if not isinstance(pseudonym, str):
            raise PolicyError(Code.CLAIMS_NOT_DISCLOSED, "the pseudonym is not a string")
        nullifier = derive_nullifier(self._secret, poll_id, pseudonym)
        entry = sign_entry(
            REGISTER,
            {"poll": poll_id, "nullifier": nullifier, "voter": voter},
            self._key,
            time=_now(self._clock),
        )
        receipt = ledger.append(entry)
        return Registration(
            poll_id=poll_id,
            voter=voter,
            nullifier=nullifier,
            index=receipt.index,
            duplicate=receipt.duplicate,
        )


def _check_request(poll_id: str, voter: str) -> None:
    if POLL_ID_RE.fullmatch(poll_id) is None:
        raise MalformedInputError(Code.MALFORMED, "a poll id is 1 to 64 of A-Za-z0-9._-")
    if len(voter) > 2048 or " " in voter:
        raise MalformedInputError(Code.MALFORMED, "the voter is a did:key or did:jwk")
    public_key_of_signer(voter)
