"""Build the ``httpx.AsyncClient`` that talks to the cluster.

Credentials come from the official ``kubernetes`` package's loaders — a kubeconfig file
(contexts, client certificates, bearer tokens, exec plugins) or the in-cluster service
account — so we never parse kubeconfig ourselves. Only its configuration object is
used: its blocking HTTP client is never called from Trio.
"""

from __future__ import annotations

import os
import ssl
import time

import httpx
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from supervisor.k8s import api

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
# The projected service-account token rotates; re-read it this often.
TOKEN_REREAD_SECONDS = 60.0


class ConfigError(Exception):
    """No usable cluster configuration (message says what was tried)."""


class _TokenFileAuth(httpx.Auth):
    """Bearer token read from a file that the kubelet rotates."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._token = ""
        self._read_at = 0.0

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        now = time.monotonic()
        if not self._token or now - self._read_at > TOKEN_REREAD_SECONDS:
            with open(self._path) as fh:
                self._token = fh.read().strip()
            self._read_at = now
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def load_configuration(
    kubeconfig: str | None, *, context: str | None = None
) -> kube_client.Configuration:
    """Resolve credentials: the given kubeconfig path, else in-cluster config."""
    cfg = kube_client.Configuration()
    try:
        if kubeconfig:
            kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig,
                context=context,
                client_configuration=cfg,
                persist_config=False,
            )
        else:
            kube_config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
    except kube_config.ConfigException as exc:
        where = f"kubeconfig {kubeconfig}" if kubeconfig else "in-cluster service account"
        raise ConfigError(f"cannot load cluster configuration from {where}: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig {kubeconfig}: {exc}") from exc
    return cfg


def build_client(cfg: kube_client.Configuration, *, in_cluster: bool = False) -> httpx.AsyncClient:
    """An httpx client carrying the configuration's server, TLS and credentials."""
    verify: ssl.SSLContext | bool
    if cfg.verify_ssl:
        verify = ssl.create_default_context(cafile=cfg.ssl_ca_cert) if cfg.ssl_ca_cert else True
        if cfg.cert_file and isinstance(verify, ssl.SSLContext):
            verify.load_cert_chain(cfg.cert_file, cfg.key_file)
    else:
        verify = False
    headers: dict[str, str] = {"User-Agent": "paperclip-supervisor"}
    auth: httpx.Auth | None = None
    if in_cluster and os.path.exists(SERVICE_ACCOUNT_TOKEN):
        auth = _TokenFileAuth(SERVICE_ACCOUNT_TOKEN)
    else:
        token = cfg.api_key.get("authorization")
        if token:
            prefix = cfg.api_key_prefix.get("authorization", "")
            headers["Authorization"] = f"{prefix} {token}".strip()
    if cfg.username and cfg.password:
        auth = httpx.BasicAuth(cfg.username, cfg.password)
    return httpx.AsyncClient(
        base_url=cfg.host,
        verify=verify,
        headers=headers,
        auth=auth,
        timeout=api.CALL_TIMEOUT,
        trust_env=False,
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=50),
    )


def connect(kubeconfig: str | None, *, context: str | None = None) -> api.KubeAPI:
    """A :class:`api.KubeAPI` for the given kubeconfig, or in-cluster when None."""
    cfg = load_configuration(kubeconfig, context=context)
    return api.KubeAPI(build_client(cfg, in_cluster=not kubeconfig))
