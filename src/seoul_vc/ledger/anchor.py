"""Status list anchoring on the ledger: ``LedgerAnchor`` and ``LedgerAnchorCheck``.

They implement the ``Anchor`` and ``AnchorCheck`` protocols of
:mod:`seoul_vc.status.anchoring` for the issuer and the verifier.

* **Issuer side.** :meth:`LedgerAnchor.anchor` appends a ``status.publish`` entry (URI,
  version, SHA-256 of the exact published token, size, bits; see
  :mod:`seoul_vc.ledger.apps.status`) signed by the agency's ledger key, which the
  authority app must have granted ``status.publish``. With a log note signer it then signs a
  checkpoint, has each witness cosign it after a consistency proof from the last checkpoint
  that witness cosigned, and returns the entry's inclusion proof in that tree together with
  a :class:`~seoul_vc.ledger.bundle.ProofBundle` for offline checks.
* **Verifier side.** :meth:`LedgerAnchorCheck.check_anchored` accepts a fetched list only if
  (1) the ledger's status state names its SHA-256 as the *latest* version of its URI, and
  (2) that entry is included in a checkpoint that opens under the verifier's log key,
  origin and witness policy (RFC 9162 §2.1.3.2 inclusion against the cosigned root), and
  (3) the entry itself verifies and says the same URI and hash. An issuer can therefore not
  show one verifier a list that the others do not see: every accepted list is the one the
  witnessed log records, and the status app refuses a second list under one version.

The checkpoint comes from a callable (witness gossip, a distributor, or the anchor's own
latest cosigned note in a single deployment); by default the ledger's stored checkpoint,
which carries the log signature only (enough for :meth:`WitnessPolicy.unwitnessed`).

Example:
    >>> import os, tempfile
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.ledger.anchor import LedgerAnchor, LedgerAnchorCheck
    >>> from seoul_vc.ledger.checkpoint import WitnessPolicy
    >>> from seoul_vc.ledger.entry import signer_did
    >>> from seoul_vc.ledger.log import Ledger
    >>> from seoul_vc.ledger.note import NoteSigner
    >>> operator, agency = PrivateKey.generate(), PrivateKey.generate()
    >>> log = NoteSigner("ledger.seoul.example", PrivateKey.generate())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ledger = Ledger.open("sqlite:" + os.path.join(tmp, "l.db"))
    ...     _ = ledger.genesis(origin="ledger.seoul.example", operator=operator,
    ...                        grants={signer_did(agency.public_key): ["status.publish"]})
    ...     anchor = LedgerAnchor(ledger, agency, log=log)
    ...     receipt = anchor.anchor(uri="https://s.example/1", version=1, sha256=bytes(32),
    ...                             size=131072, bits=1)
    ...     check = LedgerAnchorCheck(ledger, origin="ledger.seoul.example",
    ...                               log_key=log.verifier, witnesses=WitnessPolicy.unwitnessed())
    ...     check.check_anchored(uri="https://s.example/1", sha256=bytes(32))
    ...     ledger.close()
    >>> (receipt.index, receipt.size)
    (1, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from seoul_vc._json import JSONValue
from seoul_vc.clock import Clock, SystemClock
from seoul_vc.errors import Code, PolicyError
from seoul_vc.keys import PrivateKey
from seoul_vc.ledger import tlog
from seoul_vc.ledger.apps.status import PUBLISH, state_key
from seoul_vc.ledger.bundle import make_bundle
from seoul_vc.ledger.checkpoint import WitnessPolicy, open_checkpoint, parse_checkpoint
from seoul_vc.ledger.entry import Entry, sign_entry
from seoul_vc.ledger.log import Ledger
from seoul_vc.ledger.note import NoteSigner, NoteVerifier, open_note
from seoul_vc.ledger.witness import Witness
from seoul_vc.status.anchoring import AnchorReceipt

__all__ = ["LedgerAnchor", "LedgerAnchorCheck"]


class LedgerAnchor:
    """Anchors published status list versions (implements ``seoul_vc.status.Anchor``).

    Args:
        ledger: the ledger to append to.
        key: the agency's ledger signing key (granted ``status.publish``).
        log: the log's note signer: if given, every anchor signs a checkpoint and the
            receipt carries a proof bundle against it.
        witnesses: witnesses asked to cosign each checkpoint (needs ``log``).
        clock: the entry time source.
    """

    def __init__(
        self,
        ledger: Ledger,
        key: PrivateKey,
        *,
        log: NoteSigner | None = None,
        witnesses: Sequence[Witness] = (),
        clock: Clock | None = None,
    ) -> None:
        self._ledger = ledger
        self._key = key
        self._log = log
        self._witnesses = tuple(witnesses)
        self._clock = clock or SystemClock()
        #: The latest checkpoint note this anchor signed, with its witnesses' cosignatures.
        self.latest_checkpoint: str | None = None

    def anchor(
        self, *, uri: str, version: int, sha256: bytes, size: int, bits: int
    ) -> AnchorReceipt:
        """Append ``status.publish`` for this version and return its receipt.

        Durable on return (the ledger's append contract).

        Raises:
            StateConflictError: ``conflict`` for a version not above the latest anchored.
            PolicyError: ``untrusted_signer`` without a ``status.publish`` grant, or if
                another signer owns the URI.
            MalformedInputError: a body the status app refuses.
            VerificationError, StorageError: from the witnesses or the ledger.
        """
        body: dict[str, JSONValue] = {
            "uri": uri,
            "version": version,
            "sha256": sha256.hex(),
            "size": size,
            "bits": bits,
        }
        entry = sign_entry(PUBLISH, body, self._key, time=int(self._clock.now().timestamp()))
        receipt = self._ledger.append(entry)
        if self._log is None:
            proof = self._ledger.prove_inclusion(receipt.index, receipt.size)
            return AnchorReceipt(
                uri=uri,
                version=version,
                sha256=sha256,
                index=receipt.index,
                size=receipt.size,
                root_hash=receipt.root_hash,
                inclusion_proof=tuple(proof.hashes),
            )
        note = self._ledger.checkpoint(self._log)
        for witness in self._witnesses:
            note = self._cosign(witness, note)
        self.latest_checkpoint = note
        bundle = make_bundle(self._ledger, receipt.index, note)
        checkpoint = parse_checkpoint(open_note(note, [self._log.verifier]).text)
        return AnchorReceipt(
            uri=uri,
            version=version,
            sha256=sha256,
            index=receipt.index,
            size=checkpoint.size,
            root_hash=checkpoint.root_hash,
            inclusion_proof=tuple(bundle.proof.hashes),
            bundle=bundle.to_json(),
        )

    def _cosign(self, witness: Witness, note: str) -> str:
        origin = self._ledger.origin
        last = witness.latest(origin)
        checkpoint = parse_checkpoint(open_note(note, [self._log_verifier()]).text)
        proof = None
        if last is not None and last.size < checkpoint.size:
            proof = self._ledger.prove_consistency(last.size, checkpoint.size)
        return witness.cosign(note, proof)

    def _log_verifier(self) -> NoteVerifier:
        assert self._log is not None  # noqa: S101 - only called with a log signer
        return self._log.verifier


class LedgerAnchorCheck:
    """Anchored mode for verifiers (implements ``seoul_vc.status.AnchorCheck``).

    Args:
        ledger: a copy of the ledger (a replica is fine: what it says is checked against the
            witnessed checkpoint).
        origin: the log's origin; log_key: its note key; witnesses: the witness policy.
        checkpoint: returns the latest cosigned checkpoint note to check against (default:
            the ledger's stored one, signed by the log alone).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        origin: str,
        log_key: NoteVerifier,
        witnesses: WitnessPolicy,
        checkpoint: Callable[[], str | None] | None = None,
    ) -> None:
        self._ledger = ledger
        self._origin = origin
        self._log_key = log_key
        self._witnesses = witnesses
        self._checkpoint = checkpoint or ledger.latest_checkpoint

    def check_anchored(self, *, uri: str, sha256: bytes) -> None:
        """Return if ``sha256`` is the latest anchored version of ``uri`` (see the module).

        Cost: one state read, the checkpoint's signatures, one entry read, an O(log n)
        inclusion proof and one entry signature.

        Raises:
            PolicyError: ``status_list_not_anchored`` if the ledger has no such version as
                the latest for ``uri``, or no accepted checkpoint covers it;
                ``witness_quorum_not_met``.
            VerificationError: ``invalid_signature``, ``origin_mismatch``,
                ``inclusion_proof_invalid`` for a checkpoint or proof that does not verify.
        """
        latest = self._ledger.state("status", state_key(uri))
        if not isinstance(latest, dict):
            raise _not_anchored("the ledger anchors no version of this status list")
        if latest.get("sha256") != sha256.hex():
            raise _not_anchored(
                "the status list is not the latest version anchored on the ledger",
                version=str(latest.get("version")),
            )
        index = latest.get("index")
        note = self._checkpoint()
        if type(index) is not int or note is None:
            raise _not_anchored("no checkpoint to prove the anchor against")
        checkpoint = open_checkpoint(
            note, origin=self._origin, log_key=self._log_key, witnesses=self._witnesses
        ).checkpoint
        if index >= checkpoint.size:
            raise _not_anchored("the anchor is not yet covered by an accepted checkpoint")
        data = self._ledger.entry(index).to_bytes()
        proof = self._ledger.prove_inclusion(index, checkpoint.size)
        tlog.check_inclusion(
            proof, checkpoint.size, tlog.Hash(checkpoint.root_hash), index, tlog.leaf_hash(data)
        )
        entry = Entry.from_bytes(data)
        entry.verify_signature()
        body = entry.body
        if entry.type != PUBLISH or body.get("uri") != uri or body.get("sha256") != sha256.hex():
            raise _not_anchored("the ledger entry does not anchor this status list")


def _not_anchored(message: str, **details: str | int) -> PolicyError:
    return PolicyError(Code.STATUS_LIST_NOT_ANCHORED, message, **details)
