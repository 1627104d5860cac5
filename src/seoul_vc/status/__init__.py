"""Status: revocation and suspension of issued credentials, at city scale, privately.

Two formats, one model (0 valid, 1 revoked, 2 suspended):

* W3C Bitstring Status List v1.0 (:mod:`~seoul_vc.status.bitstring`) for ``vc+jwt`` and
  ``vc+sd-jwt``: ``BitstringStatusListEntry`` values in ``credentialStatus``, lists published
  as ``BitstringStatusListCredential`` secured as ``vc+jwt`` (purposes ``revocation`` and
  ``suspension``);
* IETF Token Status List (:mod:`~seoul_vc.status.token_list`) for ``dc+sd-jwt``: the
  ``status`` claim and the ``statuslist+jwt`` Status List Token (1, 2, 4 or 8 bits, ``ttl``,
  ``exp``).

The issuer keeps a :class:`StatusRegistry` (random indexes in lists of at least 131,072
entries, revoke/suspend/reinstate, signed and ledger-anchored versions); the verifier plugs a
:class:`StatusChecker` into :class:`~seoul_vc.credentials.Verifier` (fetch over HTTPS or from
a folder, bounded inflation, a cache of decoded lists, optional anchored mode through an
:class:`AnchorCheck` such as :class:`seoul_vc.ledger.anchor.LedgerAnchorCheck`).

Example:
    >>> import os, tempfile
    >>> from seoul_vc.credentials import Issuer, Verifier
    >>> from seoul_vc.credentials.schemas import example_subject
    >>> from seoul_vc.keys import PrivateKey
    >>> from seoul_vc.status import DirectorySource, StatusChecker, StatusRegistry
    >>> base = "https://status.seoul.example/lists"
    >>> issuer = Issuer(PrivateKey.generate())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     registry = StatusRegistry("sqlite:" + os.path.join(tmp, "s.db"), issuer=issuer,
    ...                               base_url=base)
    ...     slot = registry.allocate("dc+sd-jwt")
    ...     token = issuer.issue("IncomeCredential", example_subject("income"),
    ...                          status=slot.status_claim())
    ...     registry.suspend(slot)
    ...     _ = registry.write_to(tmp, registry.publish())
    ...     checker = StatusChecker(source=DirectorySource(tmp, base_url=base))
    ...     report = Verifier(issuer_key=issuer.key.public_key, status=checker).check(token)
    ...     registry.close()
    >>> report.error.code
    <Code.SUSPENDED: 'suspended'>
"""

from seoul_vc.status.anchoring import Anchor, AnchorCheck, AnchorReceipt
from seoul_vc.status.bitstring import (
    BitstringStatusListCredential,
    BitstringStatusListEntry,
    StatusPurpose,
    decode_bitstring,
    encode_bitstring,
)
from seoul_vc.status.check import (
    DirectorySource,
    HTTPSSource,
    ListSource,
    StatusChecker,
    StatusResult,
)
from seoul_vc.status.registry import (
    PublishedList,
    StatusAllocation,
    StatusRegistry,
)
from seoul_vc.status.token_list import (
    StatusListReference,
    StatusType,
    TokenStatusList,
    decode_status_list,
    encode_status_list,
)

__all__ = [
    "Anchor",
    "AnchorCheck",
    "AnchorReceipt",
    "BitstringStatusListCredential",
    "BitstringStatusListEntry",
    "DirectorySource",
    "HTTPSSource",
    "ListSource",
    "PublishedList",
    "StatusAllocation",
    "StatusChecker",
    "StatusListReference",
    "StatusPurpose",
    "StatusRegistry",
    "StatusResult",
    "StatusType",
    "TokenStatusList",
    "decode_bitstring",
    "decode_status_list",
    "encode_bitstring",
    "encode_status_list",
]
