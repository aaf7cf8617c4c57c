"""The engine backend: Elasticsearch 8/9 or OpenSearch 2/3, one code path.

Every request body is a plain query-DSL dict and every path is the same on both engines; only
the transport differs.

  transport.py   the two clients, and every failure mapped to EngineUnavailable / EngineError
  mapping.py     the index: mapping, settings, MAPPING_VERSION, the document of a listing
  queries.py     query DSL built from a SearchQuery; hits and facet counts read from answers
  backend.py     EngineBackend, the SearchBackend of search/backend.py
"""

from .backend import EngineBackend
from .mapping import MAPPING_VERSION
from .transport import EngineError, EngineUnavailable, make_transport

__all__ = ["MAPPING_VERSION", "EngineBackend", "EngineError", "EngineUnavailable", "make_transport"]
