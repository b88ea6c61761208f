"""Where the local endpoint's user pool (moto) differs from Cognito in what the web app's sign-in relies on.

moto 5.2 answers ``USER_SRP_AUTH`` with a random ``SRP_B`` and ``SALT`` and never checks the client's
``PASSWORD_CLAIM_SIGNATURE``: any password signs in, so a wrong password could not be seen locally. Here
the pool plays the server's side of Cognito's SRP (RFC 5054's 3072-bit group, SHA-256, Cognito's key
derivation and claim), as the browser's SRP library (amazon-cognito-identity-js) plays the client's: the
password moto keeps for the user is checked against the claim, and a wrong one is ``NotAuthorizedException``
"Incorrect username or password.", as Cognito answers.

moto also leaves ``userAttributes`` and ``requiredAttributes`` out of the ``NEW_PASSWORD_REQUIRED``
challenge an invited user gets at the first sign-in; Cognito always sends them (as JSON text), and the
library reads them. Here they are sent.

Only the local runtime installs this; AWS needs none of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from typing import Any

# RFC 5054's 3072-bit group, generator 2: the group Cognito's SRP uses.
N = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    16,
)
G = 2
DERIVED_KEY_INFO = b"Caldera Derived Key\x01"


def _pad_hex(value: int) -> str:
    """Even-length hex with a leading 00 where the top bit is set (a positive two's-complement number)."""
    text = format(value, "x")
    if len(text) % 2:
        text = "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def _hex_hash(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


K = int(_hex_hash(_pad_hex(N) + _pad_hex(G)), 16)


def _verifier(pool_name: str, user_id: str, password: str, salt: int) -> int:
    identity = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    x = int(_hex_hash(_pad_hex(salt) + identity), 16)
    return pow(G, x, N)


def _password_claim(pool_name: str, user_id: str, secret_block: str, timestamp: str, s: int, u: int) -> bytes:
    """The HMAC a client holding the password sends for the SRP shared secret ``s``."""
    prk = hmac.new(bytes.fromhex(_pad_hex(u)), bytes.fromhex(_pad_hex(s)), hashlib.sha256).digest()
    key = hmac.new(prk, DERIVED_KEY_INFO, hashlib.sha256).digest()[:16]
    message = pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    return hmac.new(key, message, hashlib.sha256).digest()


class _Exchange:
    """The server's side of one SRP sign-in, from the PASSWORD_VERIFIER challenge to the client's claim."""

    def __init__(self, a: int, salt: int, b: int, big_b: int, session: str) -> None:
        self.a, self.salt, self.b, self.big_b, self.session = a, salt, b, big_b, session


def _check_password_claim(backend: Any, client_id: str, responses: dict[str, str]) -> str:
    """The moto session of the sign-in whose PASSWORD_VERIFIER answer this is, once its claim proves the
    user's password; ``NotAuthorizedException`` otherwise."""
    from moto.cognitoidp.exceptions import NotAuthorizedError

    with _guard:
        exchange = _exchanges.pop(responses.get("PASSWORD_CLAIM_SECRET_BLOCK", ""), None)
    if exchange is None:
        raise NotAuthorizedError("Invalid session for the user.")
    pool = next(p for p in backend.user_pools.values() if client_id in p.clients)
    user_id = responses.get("USERNAME", "")
    user = backend.admin_get_user(pool.id, user_id)
    pool_name = pool.id.split("_", 1)[1]
    verifier = _verifier(pool_name, user_id, user.password or "", exchange.salt)
    u = int(_hex_hash(_pad_hex(exchange.a) + _pad_hex(exchange.big_b)), 16)
    s = pow(exchange.a * pow(verifier, u, N), exchange.b, N)
    secret_block, timestamp = responses["PASSWORD_CLAIM_SECRET_BLOCK"], responses.get("TIMESTAMP", "")
    expected = _password_claim(pool_name, user_id, secret_block, timestamp, s, u)
    claimed = base64.b64decode(responses.get("PASSWORD_CLAIM_SIGNATURE", ""))
    if u == 0 or not hmac.compare_digest(expected, claimed):
        raise NotAuthorizedError("Incorrect username or password.")
    return exchange.session


_exchanges: dict[str, _Exchange] = {}  # by the SECRET_BLOCK the client sends back, oldest first
# Sign-ins abandoned between the two steps are forgotten beyond this many (Cognito's sessions expire).
MAX_OPEN_EXCHANGES = 1000
_guard = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpBackend

    initiate_auth = CognitoIdpBackend.initiate_auth
    respond_to_auth_challenge = CognitoIdpBackend.respond_to_auth_challenge

    def srp_initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        result = initiate_auth(self, client_id, auth_flow, auth_parameters)
        if not isinstance(result, dict) or result.get("ChallengeName") != "PASSWORD_VERIFIER":
            return result
        parameters = result["ChallengeParameters"]
        pool = next(p for p in self.user_pools.values() if client_id in p.clients)
        user = self.admin_get_user(pool.id, parameters["USER_ID_FOR_SRP"])
        a = int(auth_parameters["SRP_A"], 16)
        if a % N == 0:
            raise NotAuthorizedError("Incorrect username or password.")
        salt = secrets.randbits(128)
        b = secrets.randbits(256)
        pool_name = pool.id.split("_", 1)[1]
        verifier = _verifier(pool_name, parameters["USER_ID_FOR_SRP"], user.password or "", salt)
        big_b = (K * verifier + pow(G, b, N)) % N
        # moto keys the sign-in by the secret block; the client base64-decodes it into its claim.
        secret_block = base64.b64encode(secrets.token_bytes(64)).decode()
        with _guard:
            _exchanges[secret_block] = _Exchange(a, salt, b, big_b, parameters["SECRET_BLOCK"])
            while len(_exchanges) > MAX_OPEN_EXCHANGES:
                del _exchanges[next(iter(_exchanges))]
        parameters.update(SALT=format(salt, "x"), SRP_B=format(big_b, "x"), SECRET_BLOCK=secret_block)
        return result

    def checked_respond_to_auth_challenge(
        self: Any, session: str, client_id: str, challenge_name: str, challenge_responses: dict[str, str]
    ) -> Any:
        if challenge_name == "PASSWORD_VERIFIER":
            moto_session = _check_password_claim(self, client_id, challenge_responses)
            challenge_responses = {**challenge_responses, "PASSWORD_CLAIM_SECRET_BLOCK": moto_session}
        result = respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses)
        if isinstance(result, dict) and result.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            pool = next(p for p in self.user_pools.values() if client_id in p.clients)
            user = self.admin_get_user(pool.id, result["ChallengeParameters"]["USERNAME"])
            attributes = {a["Name"]: a["Value"] for a in user.attributes if a["Name"] != "email_verified"}
            parameters = result["ChallengeParameters"]
            parameters.update(userAttributes=json.dumps(attributes), requiredAttributes="[]")
        return result

    CognitoIdpBackend.initiate_auth = srp_initiate_auth  # type: ignore[method-assign]
    CognitoIdpBackend.respond_to_auth_challenge = checked_respond_to_auth_challenge  # type: ignore[method-assign]
