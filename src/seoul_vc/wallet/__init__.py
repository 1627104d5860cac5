"""The Seoul Citizen Card wallet: vault, requests, consents with a view budget, history.

Room: wallet (DESIGN.md, "Consent with a view budget"). A :class:`WalletService` keeps many
citizens' wallets in one store; credential bodies and holder keys are encrypted under
per-wallet data keys wrapped by a deployment master key (:mod:`~seoul_vc.wallet.vault`); a
verifier's signed OpenID4VP request (:mod:`~seoul_vc.wallet.request`) is answered by a
consent recorded on the ledger (:mod:`~seoul_vc.wallet.consent`); each view is appended
before anything is disclosed, and the verifier checks the presentation with its view
receipt (:func:`~seoul_vc.wallet.present.check_consented_presentation`).

Example:
    >>> from seoul_vc.wallet import LocalMasterKey
    >>> len(LocalMasterKey.generate().to_text())
    43
"""

from seoul_vc.wallet.consent import ConsentGrant, ConsentItem, VerifiedView, ViewReceipt
from seoul_vc.wallet.history import HistoryEvent
from seoul_vc.wallet.present import (
    ConsentedView,
    build_presentation,
    check_consented_presentation,
    disclosed_paths,
)
from seoul_vc.wallet.request import (
    CredentialQuery,
    PresentationRequest,
    create_request,
    open_request,
)
from seoul_vc.wallet.vault import DataKey, LocalMasterKey, MasterKey, ScryptParams
from seoul_vc.wallet.wallet import (
    CitizenWallet,
    ConsentedPresentation,
    HeldCredential,
    WalletService,
)

__all__ = [
    "CitizenWallet",
    "ConsentGrant",
    "ConsentItem",
    "ConsentedPresentation",
    "ConsentedView",
    "CredentialQuery",
    "DataKey",
    "HeldCredential",
    "HistoryEvent",
    "LocalMasterKey",
    "MasterKey",
    "PresentationRequest",
    "ScryptParams",
    "VerifiedView",
    "ViewReceipt",
    "WalletService",
    "build_presentation",
    "check_consented_presentation",
    "create_request",
    "disclosed_paths",
    "open_request",
]
