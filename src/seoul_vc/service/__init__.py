"""The seoul_vc HTTP service: one ASGI app exposing the library to agencies and wallets.

Room: service (surface, the top layer). Thin by design: no logic the library lacks. It
serves an OpenID4VCI issuer, an OpenID4VP verifier, the Citizen Card wallet backend, status
lists and DID documents, and the ledger's API, with RFC 9457 problem details and an OpenAPI
document. Install with ``pip install "seoul-vc[server]"``; run with ``seoul-vc serve``.

Example:
    >>> import tempfile
    >>> from seoul_vc.service import Service, ServiceConfig, create_app, init_config
    >>> folder = tempfile.mkdtemp()
    >>> path, tokens = init_config(folder, public_url="https://localhost:8443")
    >>> service = Service(ServiceConfig.load(path))
    >>> app = create_app(service)
    >>> app.state.openapi["openapi"]
    '3.1.0'
    >>> service.close()
"""

from seoul_vc.service.app import create_app
from seoul_vc.service.config import ServiceConfig, did_web_of, init_config
from seoul_vc.service.context import Network, Service

__all__ = ["Network", "Service", "ServiceConfig", "create_app", "did_web_of", "init_config"]
