"""Talking to the engine: the official `elasticsearch` client for ELASTICSEARCH_URL,
`opensearch-py` for OPENSEARCH_URL, the only place the two differ; every failure becomes
EngineUnavailable (retry later, fall back) or EngineError (retrying will not help), also the
failures of single items of a `_bulk` and single searches of an `_msearch`, which the engine
reports inside a 200 answer."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..backend import BackendError, BackendUnavailable


class EngineUnavailable(BackendUnavailable):
    """The engine did not answer (connection refused, timeout, 429/5xx): fall back, retry later."""


class EngineError(BackendError):
    """The engine answered with an error that retrying will not fix by itself."""


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), (
        parts.username,
        parts.password or "",
    )


class ElasticsearchTransport:
    kind = "elasticsearch"

    def __init__(self, url: str, timeout: float, ca_certs: str | None = None):
        from elasticsearch import Elasticsearch

        url, auth = _split_credentials(url)
        options: dict[str, Any] = {"request_timeout": timeout, "max_retries": 0, "retry_on_timeout": False}
        if auth:
            options["basic_auth"] = auth
        if ca_certs:
            options["ca_certs"] = ca_certs
        self.client = Elasticsearch(url, **options)
        self.url = url

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict | None = None,
        timeout: float | None = None,
        ndjson: bool = False,
    ) -> Any:
        import elastic_transport
        from elasticsearch import ApiError, UnsupportedProductError

        headers = {
            "accept": "application/json",
            "content-type": "application/x-ndjson" if ndjson else "application/json",
        }
        if ndjson and isinstance(body, str):
            body = body.encode("utf-8")
        client = self.client.options(request_timeout=timeout) if timeout else self.client
        try:
            return client.perform_request(method, path, params=params, headers=headers, body=body).body
        except UnsupportedProductError as exc:
            raise EngineError(None, f"not an Elasticsearch server: {exc}") from exc
        except ApiError as exc:
            status = exc.meta.status
            if status == 429 or status >= 500:
                raise EngineUnavailable(f"{status}: {exc.message}") from exc
            raise EngineError(status, str(exc.body)[:500]) from exc
        except elastic_transport.TransportError as exc:  # connection refused, timeout, TLS…
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc


class OpenSearchTransport:
    kind = "opensearch"

    def __init__(self, url: str, timeout: float, ca_certs: str | None = None):
        from opensearchpy import OpenSearch

        url, auth = _split_credentials(url)
        options: dict[str, Any] = {"timeout": timeout, "max_retries": 0, "retry_on_timeout": False}
        if auth:
            options["http_auth"] = auth
        if ca_certs:
            options["ca_certs"] = ca_certs
        self.client = OpenSearch(hosts=[url], **options)
        self.url = url

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict | None = None,
        timeout: float | None = None,
        ndjson: bool = False,
    ) -> Any:
        from opensearchpy.exceptions import ConnectionError as OSConnectionError
        from opensearchpy.exceptions import TransportError

        headers = {"content-type": "application/x-ndjson"} if ndjson else None
        try:
            return self.client.transport.perform_request(
                method, path, params=params, body=body, timeout=timeout, headers=headers
            )
        except OSConnectionError as exc:
            raise EngineUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            if status is None or status == 429 or status >= 500:
                raise EngineUnavailable(f"{status}: {exc.error}") from exc
            raise EngineError(
                status, json.dumps(exc.info, ensure_ascii=False)[:500] if exc.info else str(exc)
            ) from exc


def make_transport(config) -> ElasticsearchTransport | OpenSearchTransport | None:
    timeout = float(config["SEARCH_ENGINE_TIMEOUT"])
    ca_certs = config.get("SEARCH_ENGINE_CA_CERTS")
    if config.get("ELASTICSEARCH_URL"):
        return ElasticsearchTransport(config["ELASTICSEARCH_URL"], timeout, ca_certs)
    if config.get("OPENSEARCH_URL"):
        return OpenSearchTransport(config["OPENSEARCH_URL"], timeout, ca_certs)
    return None


def item_failure(what: str, status: int, error: Any) -> EngineError | EngineUnavailable:
    """The error of one item of a _bulk or one search of an _msearch (both answer 200 overall), as
    the exception a request of its own would have raised: 429/5xx retry later, others do not."""
    detail = json.dumps(error, ensure_ascii=False)[:500]
    if status == 429 or status >= 500:
        return EngineUnavailable(f"{what} {status}: {detail}")
    return EngineError(status, detail)


def checked_part(part: dict) -> dict:
    """One response of an _msearch, or its error raised."""
    if part.get("error") is not None:
        raise item_failure("msearch", part.get("status") or 500, part["error"])
    return part
