"""Where a source's base URL and credentials come from: the Airflow connection named after it.

``AIRFLOW_CONN_<SOURCE_ID_IN_UPPER_CASE>`` holding a URI (``http://login:password@host:port``) or
Airflow's JSON form works everywhere, the command line included; inside Airflow a connection kept
in the metadata database or a secrets backend works too. Secrets never appear in ``repr`` or logs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ringback.settings import ConfigError


@dataclass(frozen=True)
class ProviderConnection:
    conn_id: str
    base_url: str
    login: str = ""
    password: str = field(default="", repr=False)
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ProviderConnection(conn_id={self.conn_id!r}, base_url={self.base_url!r})"


def env_var_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def json_connection(conn_id: str, value: str) -> tuple[dict, dict]:
    """Airflow's JSON form of a connection: the document and its ``extra`` (an object or a
    JSON string)."""
    try:
        doc = json.loads(value)
        extra = doc.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ConfigError(f"{env_var_name(conn_id)} holds invalid JSON") from exc
    return doc, extra


def parse_connection(conn_id: str, value: str) -> ProviderConnection:
    """Parse an Airflow connection URI or JSON document into what a connector needs."""
    value = value.strip()
    if value.startswith("{"):
        doc, extra = json_connection(conn_id, value)
        host = str(doc.get("host") or "")
        scheme = doc.get("conn_type") if doc.get("conn_type") in ("http", "https") else "https"
        if "://" not in host:
            port = f":{doc['port']}" if doc.get("port") else ""
            host = f"{scheme}://{host}{port}"
        return ProviderConnection(
            conn_id,
            extra.get("base_url") or host.rstrip("/"),
            str(doc.get("login") or ""),
            str(doc.get("password") or ""),
            {k: str(v) for k, v in extra.items()},
        )
    parts = urlsplit(value)
    if not parts.hostname:
        raise ConfigError(
            f"{env_var_name(conn_id)} must be a URI like http://login:password@host:port "
            "(the value is not shown here because it may hold a secret)"
        )
    extra = dict(parse_qsl(parts.query))
    extra.pop("__extra__", None)
    # Airflow's own conn types (ringostat://, binotel://) mean "the provider's HTTPS API".
    scheme = parts.scheme if parts.scheme in ("http", "https") else "https"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port else ""
    base = extra.pop("base_url", None) or f"{scheme}://{host}{port}{parts.path.rstrip('/')}"
    return ProviderConnection(
        conn_id,
        base.rstrip("/"),
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        extra,
    )


def get_connection(conn_id: str, default_base_url: str | None = None) -> ProviderConnection:
    """The connection for a source: environment first, then Airflow's connection store."""
    value = os.environ.get(env_var_name(conn_id))
    if value:
        return parse_connection(conn_id, value)
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # not in Airflow, or no such connection
        raise ConfigError(
            f"no connection for source {conn_id!r}: set {env_var_name(conn_id)}="
            "http://login:password@host:port or add an Airflow connection with that id"
        ) from exc
    extra = conn.extra_dejson or {}
    if extra.get("base_url"):
        base = extra["base_url"]
    elif conn.host:
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
        host = conn.host if "://" in conn.host else f"{scheme}://{conn.host}"
        base = host + (f":{conn.port}" if conn.port else "")
    elif default_base_url:
        base = default_base_url
    else:
        raise ConfigError(f"connection {conn_id!r} has no host")
    return ProviderConnection(
        conn_id,
        base.rstrip("/"),
        conn.login or "",
        conn.password or "",
        {k: str(v) for k, v in extra.items()},
    )


# Airflow's connection type "postgres" is SQLAlchemy's dialect "postgresql".
AIRFLOW_TO_SQLALCHEMY = {"postgres": "postgresql"}


def database_url(conn_id: str) -> str:
    """A SQLAlchemy URL for a database source: ``AIRFLOW_CONN_<ID>`` holding one
    (``postgresql://user:pass@host/asteriskcdrdb``, ``sqlite:////var/lib/cdr.db``), else the Airflow
    connection's ``extra.sqlalchemy_url`` or its URI. Never logged: it may hold a password."""
    value = os.environ.get(env_var_name(conn_id), "").strip()
    if value.startswith("{"):
        value = _json_database_url(conn_id, value)
    if not value:
        try:
            from airflow.sdk import BaseHook

            conn = BaseHook.get_connection(conn_id)
        except Exception as exc:
            raise ConfigError(
                f"no connection for source {conn_id!r}: set {env_var_name(conn_id)} to a "
                "SQLAlchemy URL (postgresql://user:password@host/db, sqlite:////path/cdr.db) "
                "or add an Airflow connection with that id"
            ) from exc
        value = (conn.extra_dejson or {}).get("sqlalchemy_url") or conn.get_uri()
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ConfigError(
            f"{env_var_name(conn_id)} must be a database URL such as "
            "postgresql://user:password@host/db (the value is not shown: it may hold a secret)"
        )
    return f"{AIRFLOW_TO_SQLALCHEMY.get(scheme, scheme)}://{rest}"


def _json_database_url(conn_id: str, value: str) -> str:
    """Airflow's JSON form of a connection (``{"conn_type": "postgres", "host": ...}``)."""
    doc, extra = json_connection(conn_id, value)
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    if not doc.get("conn_type") or not doc.get("host"):
        raise ConfigError(
            f"{env_var_name(conn_id)}: a database connection needs conn_type and host"
        )
    auth = ""
    if doc.get("login"):
        auth = quote(str(doc["login"]), safe="")
        if doc.get("password"):
            auth += ":" + quote(str(doc["password"]), safe="")
        auth += "@"
    port = f":{doc['port']}" if doc.get("port") else ""
    return f"{doc['conn_type']}://{auth}{doc['host']}{port}/{doc.get('schema') or ''}"
