"""``seoul-vc demo``: the programme end to end on the embedded defaults, narrated.

Each act is a function that does real work through the public API and returns a line for the
summary table. Later capabilities (credentials, ledger, wallet, voting, mileage) add acts.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from seoul_vc import (
    Code,
    MethodResolver,
    PrivateKey,
    PublicKey,
    SeoulVCError,
    did_jwk,
    did_key,
    resolve,
    resolve_verification_method,
)
from seoul_vc.jose import decode_jwt, encode_jwt
from seoul_vc_cli.output import JsonOption, json_mode, set_json_mode


@dataclass
class Story:
    """What the demo has set up so far, shared by the acts."""

    folder: Path
    resolver: MethodResolver = field(default_factory=MethodResolver)
    agencies: dict[str, tuple[PrivateKey, str]] = field(default_factory=dict)
    citizen: tuple[PrivateKey, str] | None = None
    record: list[dict[str, Any]] = field(default_factory=list)


def _say(text: str) -> None:
    if not json_mode():
        typer.echo(text)


def act_agencies(story: Story) -> str:
    """Issuing agencies create Ed25519 keys (files with mode 0600) and did:key identifiers."""
    for name in ("Ministry of the Interior", "National Health Insurance Service", "Seoul City"):
        key = PrivateKey.generate("EdDSA")
        path = story.folder / (name.lower().replace(" ", "-") + ".jwk")
        key.save(path)
        did = did_key(key.public_key)
        story.agencies[name] = (key, did)
        mode = oct(path.stat().st_mode & 0o777)
        _say(f"  {name:<36} {did[:32]}...  key file {path.name} ({mode})")
    return f"{len(story.agencies)} agency keys, did:key"


def act_citizen(story: Story) -> str:
    """The citizen's phone makes a P-256 key (what secure hardware speaks): a did:jwk."""
    key = PrivateKey.generate("ES256")
    did = did_jwk(key.public_key)
    story.citizen = (key, did)
    _say(f"  citizen holder key ES256, {did[:40]}...")
    return "holder key ES256, did:jwk"


def act_resolve(story: Story) -> str:
    """Every DID resolves locally to a document whose key matches the one generated."""
    count = 0
    pairs = [*story.agencies.values(), *([story.citizen] if story.citizen else [])]
    for key, did in pairs:
        doc = resolve(did, resolver=story.resolver)
        method = doc.verification_method[0]
        vm = resolve_verification_method(str(method.id), resolver=story.resolver)
        if vm.public_key != key.public_key:
            raise SeoulVCError(Code.INTERNAL, "resolved key differs from the generated one")
        count += 1
        _say(f"  resolved {did[:28]}...  -> {vm.type} {vm.public_key.alg.value}")
    return f"{count} DIDs resolved, keys match"


def act_sign_and_verify(story: Story) -> str:
    """An agency signs a statement; a receiving agency verifies it by resolving the kid."""
    key, did = story.agencies["Ministry of the Interior"]
    kid = f"{did}#{did.split(':')[2]}"
    token = encode_jwt(
        {"iss": did, "sub": "demo", "statement": "residency records are online"},
        key,
        typ="JWT",
        kid=kid,
    )
    public = resolve_verification_method(kid, resolver=story.resolver).public_key
    claims = decode_jwt(token, public, typ="JWT").claims
    _say(f"  signed {len(token)}-byte JWS, verified via kid -> {claims['statement']!r}")
    return "JWS signed by agency, verified through its DID"


def _refused(action: Callable[[], object]) -> str:
    try:
        action()
    except SeoulVCError as exc:
        return str(exc.code)
    raise SeoulVCError(Code.INTERNAL, "an attack was not refused")


def act_attacks(story: Story) -> str:
    """Tampered, unsigned and weak-key inputs are refused with stable codes."""
    key, did = story.agencies["Ministry of the Interior"]
    public = key.public_key
    token = encode_jwt({"iss": did, "statement": "ok"}, key)
    head, payload, sig = token.split(".")
    forged_payload = base64.urlsafe_b64encode(b'{"iss":"x","statement":"forged"}').rstrip(b"=")
    forged = f"{head}.{forged_payload.decode()}.{sig}"
    none_head = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    small_order = {"kty": "OKP", "crv": "Ed25519", "x": "AQ" + "A" * 41}
    results = {
        "tampered payload": _refused(lambda: decode_jwt(forged, public)),
        'alg "none"': _refused(lambda: decode_jwt(f"{none_head}.{payload}.", public)),
        "small-order Ed25519 key": _refused(lambda: PublicKey.from_jwk(small_order)),
        "did:web to loopback": _refused(lambda: resolve("did:web:localhost%3A8443")),
    }
    for what, code in results.items():
        _say(f"  {what:<26} refused: {code}")
    return ", ".join(results.values())


def act_ledger(story: Story) -> str:
    """The city's ledger: genesis, grants, a cosigned checkpoint, offline proof, audit."""
    from seoul_vc import Ledger, verify_bundle
    from seoul_vc.ledger.bundle import make_bundle
    from seoul_vc.ledger.checkpoint import CosignerKey, WitnessPolicy
    from seoul_vc.ledger.entry import sign_entry
    from seoul_vc.ledger.note import NoteSigner
    from seoul_vc.ledger.witness import Witness

    origin = "ledger.seoul.example/paperless"
    operator = PrivateKey.generate("EdDSA")
    ledger = Ledger.open(f"sqlite:{story.folder / 'ledger.db'}")
    try:
        ledger.genesis(origin=origin, operator=operator)
        grants = {
            "Ministry of the Interior": "credential.ResidencyCredential",
            "National Health Insurance Service": "credential.IncomeCredential",
            "Seoul City": "credential.CertificateCredential",
        }
        for name, record_type in grants.items():
            _, did = story.agencies[name]
            body = {"subject": did, "record_types": [record_type]}
            now = int(time.time())
            ledger.append(sign_entry("authority.grant", body, operator, time=now))
        log_key = NoteSigner(origin, operator)
        note = ledger.checkpoint(log_key)
        witnesses = []
        for agency in ("mois.witness.example", "nhis.witness.example"):
            cosigner = CosignerKey(agency, PrivateKey.generate("EdDSA"))
            state = story.folder / f"{agency}.state.json"
            witness = Witness(cosigner, logs={origin: log_key.verifier}, state_path=state)
            note = witness.cosign(note)
            witnesses.append(cosigner.verifier)
        _say(f"  {ledger.size} entries; checkpoint cosigned by {len(witnesses)} witness agencies")
        bundle = make_bundle(ledger, 2, note)
        policy = WitnessPolicy(witnesses=tuple(witnesses), threshold=2)
        entry = verify_bundle(bundle, origin=origin, log_key=log_key.verifier, witnesses=policy)
        _say(f"  offline proof: entry 2 ({entry.type}) is in the cosigned tree")
        report = ledger.audit()
        _say(f"  audit: {report.size} entries, every hash and signature recomputed")
    finally:
        ledger.close()
    return f"{report.size} entries, 2-of-2 cosigned, offline proof ok, audit ok"


ACTS: list[tuple[str, Callable[[Story], str]]] = [
    ("Agencies set up", act_agencies),
    ("Citizen's holder key", act_citizen),
    ("DIDs resolved", act_resolve),
    ("Signed statement verified", act_sign_and_verify),
    ("Attacks refused", act_attacks),
    ("Ledger anchored and audited", act_ledger),
]


def demo(json_output: JsonOption = False) -> None:
    """Run the whole programme on the embedded defaults in a temporary folder."""
    set_json_mode(json_output)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seoul-vc-demo-") as tmp:
        story = Story(folder=Path(tmp))
        _say("seoul_vc demo: paperless administration, end to end\n")
        for number, (title, act) in enumerate(ACTS, start=1):
            _say(f"Act {number}. {title}")
            t0 = time.perf_counter()
            outcome = act(story)
            story.record.append(
                {
                    "act": number,
                    "title": title,
                    "outcome": outcome,
                    "seconds": round(time.perf_counter() - t0, 4),
                }
            )
            _say("")
    total = round(time.perf_counter() - started, 3)
    if json_mode():
        out = {"ok": True, "acts": story.record, "seconds": total}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
        return
    width = max(len(r["title"]) for r in story.record)
    typer.echo("Summary")
    for r in story.record:
        typer.echo(f"  {r['act']}. {r['title']:<{width}}  {r['outcome']}")
    typer.echo(f"\nAll {len(story.record)} acts passed in {total} s.")
