"""Keyed pseudonyms for identifiers of people and companies (HMAC-SHA256).

A contract column marked ``pseudonymise: true`` is replaced at load by
``'p_' || first 24 hex digits of HMAC-SHA256(key, value)``: the same identifier always maps to
the same pseudonym (so counts per declarant still work), nobody without the key can reverse or
recompute it, and the clear value never reaches the warehouse, the marts or the snapshot.

The key comes from configuration, never from the repository: the environment variable
``SWPM_PSEUDONYM_KEY``, or else the password of the Airflow connection ``swpm_pseudonym_key``.
Changing the key changes every pseudonym (a full reload is then needed to keep them joinable).
"""

from __future__ import annotations

import hashlib
import hmac
import os

KEY_ENV = "SWPM_PSEUDONYM_KEY"
AIRFLOW_CONN_ID = "swpm_pseudonym_key"
DIGITS = 24
_BLOCK = 64  # SHA-256 block size


class MissingKey(RuntimeError):
    pass


def key() -> bytes:
    value = os.environ.get(KEY_ENV)
    if not value:
        try:  # inside an Airflow task: the connection (secrets backend, env AIRFLOW_CONN_..., or DB)
            from airflow.sdk import Connection

            value = Connection.get(AIRFLOW_CONN_ID).password
        except Exception:  # noqa: BLE001 - not in Airflow, or no such connection
            value = None
    if not value:
        raise MissingKey(
            f"no pseudonymisation key: set the environment variable {KEY_ENV} or the password of the "
            f"Airflow connection '{AIRFLOW_CONN_ID}' (a long random secret, kept out of the repository). "
            "The file stays in landing/ and loads on the next run once the key is configured."
        )
    if len(value) < 16:
        raise MissingKey(
            f"the pseudonymisation key in {KEY_ENV} is shorter than 16 characters; use a long random secret"
        )
    return value.encode("utf-8")


def pseudonym(value: str | None, secret: bytes) -> str | None:
    """The pseudonym of one value, in Python (the loader computes the same in SQL)."""
    if value is None:
        return None
    return "p_" + hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:DIGITS]


def sql_params(secret: bytes) -> dict[str, bytes]:
    """Inner and outer padded keys for :func:`sql_expression` (RFC 2104)."""
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(_BLOCK, b"\0")
    return {"hmac_ipad": bytes(b ^ 0x36 for b in secret), "hmac_opad": bytes(b ^ 0x5C for b in secret)}


def sql_expression(column_sql: str) -> str:
    """HMAC-SHA256 in DuckDB SQL over a VARCHAR expression; the key arrives as parameters."""
    inner = f"unhex(sha256($hmac_ipad || encode({column_sql})))"
    return f"CASE WHEN {column_sql} IS NULL THEN NULL ELSE 'p_' || left(sha256($hmac_opad || {inner}), {DIGITS}) END"
