"""Who signs a render's Content Credential: the facility's certificate and key, or a throwaway one.

    resolve(cert, key) -> (Identity, warning or None)

Where the signing material comes from, first match wins:
1. `--sign-cert CERT.pem --sign-key KEY.pem` on `lipflap run`;
2. the environment: LIPFLAP_SIGN_CERT and LIPFLAP_SIGN_KEY (paths);
3. a config file, `<user config dir>/lipflap/signing.json`: {"cert": PATH, "key": PATH}
   (relative paths are taken from the file's folder; an optional "trust": CA.pem is what
   `lipflap credentials` trusts when given no --trust);
4. nothing: a throwaway local CA and leaf made for this run, labelled UNVERIFIED in the
   certificate itself, and one warning. The C2PA SDK refuses a self-signed leaf ("the certificate
   is invalid", c2pa-python 0.38.1), so even the throwaway identity is a CA and a leaf.

CERT is a PEM file with the signing certificate first and its chain after it (not the root);
KEY is its unencrypted PEM private key. The key type picks the algorithm: EC P-256 -> ES256
(the usual choice), P-384 -> ES384, P-521 -> ES512, Ed25519, RSA -> PS256.
Everything is checked before the render starts, so a wrong key costs seconds, not a render.
"""
from __future__ import annotations

import datetime as _dt
import os
import socket
from dataclasses import dataclass

from ..contract.client import user_config_dir
from ..contract.errors import LipflapError
from ..contract.files import read_json_object

ENV_CERT = "LIPFLAP_SIGN_CERT"
ENV_KEY = "LIPFLAP_SIGN_KEY"
# The throwaway identity says what it is where every C2PA reader shows it: the signer's name.
LOCAL_ORG = "UNVERIFIED local lipflap credential (no facility identity)"


class CredentialError(LipflapError):
    """Signing material or a credential that cannot be used as asked."""


@dataclass(frozen=True)
class Identity:
    certs_pem: bytes        # leaf first, then its chain
    key_pem: bytes
    alg: str                # c2pa-python's name: es256, es384, es512, ed25519, ps256
    source: str             # where it came from, in words (for the report and the warning)
    subject: str            # the signer as readers show it (common name, organisation)
    issuer: str
    local: bool             # True: a throwaway certificate made for this run
    not_after: str          # ISO date the certificate expires
    cert_path: str | None = None

    def summary(self) -> dict:
        return {"signer": self.subject, "issuer": self.issuer, "algorithm": self.alg.upper(),
                "identity_source": self.source, "certificate": self.cert_path,
                "certificate_expires": self.not_after,
                "kind": "local_unverified" if self.local else "facility"}


def config_file() -> str:
    """The per-user config file that may name the facility's certificate and key, in the same
    per-user folder the hosts' engine client uses (lipflap.contract.client.user_config_dir)."""
    return os.path.join(user_config_dir(), "signing.json")


GIVEN_ON_COMMAND_LINE = "command line (--sign-cert/--sign-key)"
# A job's keys (docs/job.md). Not the job file's path: conform's clips, one job file each, are
# signed by one identity, and the hosts count renders by where their identity came from.
JOB_SIGNER = "job (sign_cert, sign_key)"


def resolve(cert: str | None = None, key: str | None = None, *,
            env=None, config: str | None = None,
            given_by: str = GIVEN_ON_COMMAND_LINE) -> tuple[Identity, str | None]:
    """The identity to sign with and, for the throwaway one, the warning to show once.
    `given_by`: where `cert` and `key` came from, in words (the command line, a job file)."""
    env = os.environ if env is None else env
    if cert or key:
        if not (cert and key):
            raise CredentialError("--sign-cert and --sign-key go together: give the certificate "
                                  "(PEM, with its chain) and its private key (PEM).")
        return load(cert, key, given_by), None
    e_cert, e_key = env.get(ENV_CERT), env.get(ENV_KEY)
    if e_cert or e_key:
        if not (e_cert and e_key):
            raise CredentialError(f"only one of {ENV_CERT} and {ENV_KEY} is set; set both (the "
                                  f"certificate and its private key, PEM files) or neither.")
        return load(e_cert, e_key, f"environment ({ENV_CERT}, {ENV_KEY})"), None
    path = config or config_file()
    if os.path.exists(path):
        c, k = _read_config(path)
        return load(c, k, f"config file {path}"), None
    ident = local_identity()
    return ident, ("no signing certificate given (--sign-cert/--sign-key, "
                   f"{ENV_CERT}/{ENV_KEY} or {path}): the Content Credential is signed with a "
                   "throwaway local certificate labelled UNVERIFIED, which shows what was changed "
                   "but not who changed it; see README 'Signing with your facility's identity'.")


def configured_trust(config: str | None = None) -> tuple[bytes | None, str | None]:
    """(PEM, path) of the trust anchors the config file names as "trust" (the facility's CA,
    used by `lipflap credentials` when no --trust is given), or (None, None)."""
    path = config or config_file()
    if not os.path.exists(path):
        return None, None
    trust = _config_json(path).get("trust")
    if not trust:
        return None, None
    anchor = os.path.join(os.path.dirname(os.path.abspath(path)), os.path.expanduser(str(trust)))
    try:
        with open(anchor, "rb") as f:
            return f.read(), anchor
    except OSError as e:
        raise CredentialError(f"{path} names trust anchors {anchor}, which cannot be read "
                              f"({e.strerror}); fix the path or remove \"trust\".") from None


def _config_json(path: str) -> dict:
    """The signing config's object; a config that cannot be read is an error, never skipped."""
    return read_json_object(path, "signing config", 'it must be a JSON object like '
                            '{"cert": "facility.pem", "key": "facility.key"}.', CredentialError)


def _read_config(path: str) -> tuple[str, str]:
    data = _config_json(path)
    if not data.get("cert") or not data.get("key"):
        raise CredentialError(f'{path}: the signing config needs "cert" and "key" (paths to the PEM '
                              f"certificate chain and its private key).")
    folder = os.path.dirname(os.path.abspath(path))
    return tuple(os.path.join(folder, os.path.expanduser(str(data[k]))) for k in ("cert", "key"))


def load(cert_path: str, key_path: str, source: str) -> Identity:
    """Read and check a certificate chain and its key; one-sentence errors for what is wrong."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def read(p, what):
        try:
            with open(p, "rb") as f:
                return f.read()
        except OSError as e:
            raise CredentialError(f"{p}: cannot read the signing {what} ({e.strerror}); check the "
                                  f"path given by the {source}.") from None
    cert_pem, key_pem = read(cert_path, "certificate"), read(key_path, "key")
    try:
        certs = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise CredentialError(f"{cert_path} is not a PEM certificate chain; give the signing "
                              f"certificate (then its intermediates) in PEM form.") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise CredentialError(f"{key_path} is an encrypted key; give an unencrypted PEM key (kept "
                              f"readable only by the render account).") from None
    except ValueError:
        raise CredentialError(f"{key_path} is not a PEM private key; give the key that belongs to "
                              f"{cert_path}.") from None
    leaf = certs[0]
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, pub)
            != leaf.public_key().public_bytes(serialization.Encoding.DER, pub)):
        raise CredentialError(f"{key_path} does not belong to the first certificate in {cert_path}; "
                              f"give the signing certificate first and its own key.")
    now = _dt.datetime.now(_dt.timezone.utc)
    if leaf.not_valid_after_utc < now or leaf.not_valid_before_utc > now:
        raise CredentialError(f"{cert_path}: the signing certificate is valid "
                              f"{leaf.not_valid_before_utc:%Y-%m-%d} to "
                              f"{leaf.not_valid_after_utc:%Y-%m-%d}, not today; renew it.")
    return Identity(certs_pem=cert_pem, key_pem=key_pem, alg=_alg(key, key_path), source=source,
                    subject=_name(leaf.subject), issuer=_name(leaf.issuer), local=False,
                    not_after=leaf.not_valid_after_utc.date().isoformat(),
                    cert_path=os.path.abspath(cert_path))


def _alg(key, where: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}.get(key.curve.name)
        if alg:
            return alg
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    elif isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise CredentialError(f"{where}: C2PA signs with EC P-256/P-384/P-521, Ed25519 or RSA keys; "
                          f"this key is {type(key).__name__}.")


def _name(name) -> str:
    from cryptography.x509.oid import NameOID
    parts = [a.value for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME)
             for a in name.get_attributes_for_oid(oid)]
    return ", ".join(str(p) for p in parts) or name.rfc4514_string()


def make_ca_and_leaf(ca_name: str, leaf_name: str, org: str, days: int):
    """(ca_cert, leaf_cert, leaf_key): an ES256 CA and a leaf with the C2PA signing profile
    (digitalSignature, emailProtection EKU, key identifiers), as the SDK's certificate check wants."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])

    def usage(sign: bool):
        return x509.KeyUsage(digital_signature=sign, content_commitment=False,
                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                             key_cert_sign=not sign, crl_sign=not sign, encipher_only=False,
                             decipher_only=False)
    now = _dt.datetime.now(_dt.timezone.utc)
    start, end = now - _dt.timedelta(hours=1), now + _dt.timedelta(days=days)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name(ca_name)).issuer_name(name(ca_name))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name(leaf_name)).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return ca, leaf, leaf_key


def pem(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def local_identity() -> Identity:
    """A throwaway CA and leaf for this run; nothing is written to disk. Valid for 10 years:
    without a timestamp authority a reader checks the certificate against today's date, and the
    credential must keep saying what was changed long after the render."""
    host = socket.gethostname() or "this machine"
    ca, leaf, key = make_ca_and_leaf("lipflap throwaway local CA", f"lipflap on {host} (UNVERIFIED)",
                                     LOCAL_ORG, days=3653)
    return Identity(certs_pem=pem(leaf) + pem(ca), key_pem=key_pem(key), alg="es256",
                    source="throwaway local certificate (no signing material given)",
                    subject=_name(leaf.subject), issuer=_name(leaf.issuer), local=True,
                    not_after=leaf.not_valid_after_utc.date().isoformat())
