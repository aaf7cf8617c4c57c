#!/usr/bin/env python3
"""Start a real, single-node search engine on 127.0.0.1 for tests (stdlib only).

The node is an embedded OpenSearch 2.19.x (default; analysis-common loaded) or Elasticsearch 9.5.x
(only the analysis built into the server: Elastic does not publish analysis-common to Maven Central),
built purely from Maven Central jars (see tools/search-node/<engine>/pom.xml): no Docker, no tarball
download, plain HTTP, single-node discovery, small heap.

CLI
    python tools/search_node.py build --engine opensearch
    python tools/search_node.py start --engine opensearch --port 0 --data DIR --pidfile FILE
        -> prints http://127.0.0.1:PORT on stdout once the node answers and is green/yellow
    python tools/search_node.py stop --pidfile FILE
    python tools/search_node.py check --engine opensearch   # start, smoke-test analyzers, stop
    python tools/search_node.py check --engine elasticsearch

Python
    from search_node import start_node, stop_node
    url, proc = start_node("opensearch", tmp_path / "search", port=0)
    ...
    stop_node(proc)

Maven's local repository is <repo>/.cache/m2 and the compiled launcher + classpath are cached
under <repo>/.cache/search-node/<engine>/, so only the first build needs the network; once the
cache is complete a start runs no Maven at all.

Environment overrides:
    SEARCH_NODE_JAVA   path to the java executable (else the first of $JAVA_HOME/bin/java, /usr/bin/java,
                       the JDKs under /usr/lib/jvm whose version is in the engine's range:
                       OpenSearch 11..25, Elasticsearch 9 21..25)
    SEARCH_NODE_HEAP   max heap, default 512m (min heap is half of it, at most 256m)
    SEARCH_NODE_MVN    path to mvn (else `mvn` on PATH)
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = REPO_ROOT / "tools" / "search-node"
CACHE_ROOT = REPO_ROOT / ".cache"
M2_REPO = CACHE_ROOT / "m2"
BUILD_ROOT = CACHE_ROOT / "search-node"

DEFAULT_TIMEOUT = 120.0
LOG_TAIL_LINES = 60


class SearchNodeError(RuntimeError):
    """Build or start failure; the message carries the relevant log tail."""


@dataclass(frozen=True)
class Engine:
    name: str
    main_class: str
    java_min: int
    java_max: int  # newest major version known to work
    core_artifact: str  # path under the Maven repo; present => try an offline build first
    jvm_extra: tuple[str, ...] = ()  # engine-specific JVM flags, after the common ones

    @property
    def project_dir(self) -> Path:
        return TOOLS_DIR / self.name

    @property
    def build_dir(self) -> Path:
        return BUILD_ROOT / self.name


ENGINES = {
    # OpenSearch 2.19 supports Java 11..21 officially; 17 and 25 were both seen to start here.
    "opensearch": Engine("opensearch", "searchnode.OpenSearchTestNode", 11, 25, "org/opensearch/opensearch"),
    # Elasticsearch 9 is compiled for Java 21 (verified here on Temurin 25). Native access and CLDR
    # are what its own launcher passes (SystemJvmOptions), with ALL-UNNAMED because the jars are on
    # the classpath, not the module path: Lucene and ES call restricted foreign-function methods, and
    # ES formats dates with the CLDR locale data. The incubator module turns on Lucene's SIMD code
    # (postings decoding, vectors); Lucene logs a warning asking for it otherwise.
    "elasticsearch": Engine(
        "elasticsearch",
        "searchnode.ElasticsearchTestNode",
        21,
        25,
        "org/elasticsearch/elasticsearch",
        (
            "--enable-native-access=ALL-UNNAMED",
            "--add-modules=jdk.incubator.vector",
            "-Djava.locale.providers=CLDR",
        ),
    ),
}

# Engines the test suite runs against (tools/run_tests.py starts each and exports
# <ENGINE>_TEST_URL). Elasticsearch is the real 9.5.x server, which sends X-Elastic-Product
# itself, so the official elasticsearch-py 9 talks to it as to any other Elasticsearch.
SUPPORTED_ENGINES = ("opensearch", "elasticsearch")


def _engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        raise SearchNodeError(f"unknown engine {name!r}; choose one of {sorted(ENGINES)}") from None


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------- java

_JAVA_VERSION_CACHE: dict[str, int | None] = {}


def java_major_version(java: str) -> int | None:
    if java in _JAVA_VERSION_CACHE:
        return _JAVA_VERSION_CACHE[java]
    version = None
    try:
        out = subprocess.run(
            [java, "-XshowSettings:properties", "-version"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        m = re.search(r"java\.specification\.version = (\d+)(?:\.(\d+))?", out.stderr + out.stdout)
        if m:
            major = int(m.group(1))
            version = int(m.group(2)) if major == 1 and m.group(2) else major
    except (OSError, subprocess.SubprocessError):
        version = None
    _JAVA_VERSION_CACHE[java] = version
    return version


def find_java(engine: Engine) -> str:
    """SEARCH_NODE_JAVA, else $JAVA_HOME/bin/java, else /usr/bin/java, else a JDK under
    /usr/lib/jvm, taking the first whose major version is within the engine's range."""
    explicit = os.environ.get("SEARCH_NODE_JAVA")
    if explicit:
        return explicit
    candidates: list[str] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    candidates.append("/usr/bin/java")
    jvm_dir = Path("/usr/lib/jvm")
    if jvm_dir.is_dir():
        candidates += sorted(str(p) for p in jvm_dir.glob("*/bin/java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java"))
    tried = []
    for cand in dict.fromkeys(candidates):
        if not os.access(cand, os.X_OK):
            continue
        major = java_major_version(cand)
        tried.append(f"{cand} ({major})")
        if major is not None and engine.java_min <= major <= engine.java_max:
            return cand
    raise SearchNodeError(
        f"no Java {engine.java_min}..{engine.java_max} found for {engine.name}; tried: {', '.join(tried) or 'nothing'}"
    )


def _java_home(java: str) -> str:
    return str(Path(os.path.realpath(java)).parent.parent)


# -------------------------------------------------------------------------------------- build


def _fingerprint(engine: Engine) -> str:
    h = hashlib.sha256()
    files = [engine.project_dir / "pom.xml", *sorted((engine.project_dir / "src").rglob("*"))]
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(engine.project_dir)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _read_classpath(engine: Engine) -> list[str] | None:
    cp_file = engine.build_dir / "classpath.txt"
    classes = engine.build_dir / "build" / "classes"
    if not cp_file.is_file() or not classes.is_dir():
        return None
    entries = [e for e in cp_file.read_text().strip().split(os.pathsep) if e]
    if not entries or not all(os.path.exists(e) for e in entries):
        return None
    return [str(classes), *entries]


@contextlib.contextmanager
def _build_lock(engine: Engine):
    engine.build_dir.mkdir(parents=True, exist_ok=True)
    with open(engine.build_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(engine_name: str, *, java: str | None = None, verbose: bool = False) -> list[str]:
    """Resolve the engine's jars into .cache/m2, compile the launcher class, and return the
    java classpath (list of entries). A no-op (no Maven run) when the cache is up to date."""
    engine = _engine(engine_name)
    stamp = engine.build_dir / "stamp.json"
    fp = _fingerprint(engine)
    with _build_lock(engine):
        cp = _read_classpath(engine)
        if cp is not None and stamp.is_file():
            try:
                if json.loads(stamp.read_text()).get("fingerprint") == fp:
                    return cp
            except ValueError:
                pass

        mvn = os.environ.get("SEARCH_NODE_MVN") or shutil.which("mvn")
        if not mvn:
            raise SearchNodeError("mvn not found (install maven or set SEARCH_NODE_MVN)")
        java = java or find_java(engine)
        env = dict(os.environ, JAVA_HOME=_java_home(java))
        M2_REPO.mkdir(parents=True, exist_ok=True)
        log = engine.build_dir / "mvn.log"
        base = [
            mvn,
            "-B",
            "-q" if not verbose else "-e",
            f"-Dmaven.repo.local={M2_REPO}",
            f"-Dsearchnode.buildDir={engine.build_dir}",
            f"-Dmdep.outputFile={engine.build_dir / 'classpath.txt'}",
            "-f",
            str(engine.project_dir / "pom.xml"),
            "compile",
            "dependency:build-classpath",
        ]
        # Offline first when something is cached (fast, no network); online as the fallback.
        warm = stamp.is_file() or (M2_REPO / engine.core_artifact).is_dir()
        attempts = ([[*base[:1], "-o", *base[1:]]] if warm else []) + [base]
        rc = None
        log.write_text("")
        for cmd in attempts:
            with open(log, "a") as out:
                out.write("$ " + " ".join(cmd) + "\n")
                out.flush()
                rc = subprocess.run(
                    cmd,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=engine.project_dir,
                    stdin=subprocess.DEVNULL,
                ).returncode
            if rc == 0:
                break
        cp = _read_classpath(engine)
        if rc != 0 or cp is None:
            raise SearchNodeError(f"maven build for {engine.name} failed (rc={rc}); {log}:\n{_tail(log)}")
        stamp.write_text(json.dumps({"fingerprint": fp, "built_at": time.time()}))
        return cp


# -------------------------------------------------------------------------------------- start


def _jvm_options(home: Path) -> list[str]:
    xmx = os.environ.get("SEARCH_NODE_HEAP", "512m")
    m = re.fullmatch(r"(\d+)([mMgG])", xmx)
    mb = int(m.group(1)) * (1024 if m.group(2) in "gG" else 1) if m else 512
    xms = f"{min(256, max(64, mb // 2))}m"
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return [
        f"-Xms{xms}",
        f"-Xmx{xmx}",
        "-XX:+UseSerialGC",
        "-Xss1m",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        f"-Djava.io.tmpdir={tmp}",
        "-Dlog4j2.formatMsgNoLookups=true",
        "-Dlog4j2.disable.jmx=true",
        "-Dlog4j.shutdownHookEnabled=false",
        "-Dio.netty.noUnsafe=true",
        "-Dio.netty.noKeySetOptimization=true",
        "-Dio.netty.recycler.maxCapacityPerThread=0",
    ]


def _http_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, dict(r.headers), json.loads(r.read().decode() or "null")


def start_node(
    engine: str,
    data_dir,
    port: int = 0,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    settings: dict[str, str] | None = None,
    java: str | None = None,
):
    """Start a node whose files all live under data_dir; return (url, proc).

    port=0 lets the JVM bind an ephemeral port itself (no pick-then-bind race); the bound
    port is reported back through a port file. Returns once GET /_cluster/health answers
    is at least yellow. proc is a subprocess.Popen leading its own process group, with extra
    attributes: url, data_dir, log_path. Raises SearchNodeError (with the node log tail).
    """
    eng = _engine(engine)
    java = java or find_java(eng)
    classpath = build(engine, java=java)
    home = Path(data_dir).resolve()
    home.mkdir(parents=True, exist_ok=True)
    port_file = home / "http.port"
    with contextlib.suppress(FileNotFoundError):
        port_file.unlink()
    log_path = home / "node.log"
    cmd = [
        java,
        *_jvm_options(home),
        *eng.jvm_extra,
        "-cp",
        os.pathsep.join(classpath),
        eng.main_class,
        "--home",
        str(home),
        "--http-port",
        str(int(port)),
        "--port-file",
        str(port_file),
    ]
    for k, v in (settings or {}).items():
        cmd.append(f"-E{k}={v}")

    log_fh = open(log_path, "ab")
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        log_fh.close()
    proc.log_path = log_path
    proc.data_dir = home
    proc.engine = engine

    deadline = time.monotonic() + timeout
    url = None
    last_err = "node did not report its port"
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SearchNodeError(
                    f"{engine} node exited with code {proc.returncode} during startup; {log_path}:\n{_tail(log_path)}"
                )
            if url is None and port_file.is_file():
                text = port_file.read_text().strip()
                if text.isdigit():
                    url = f"http://127.0.0.1:{int(text)}"
            if url is not None:
                # Not GET /: on Elasticsearch 8+ that route belongs to the rest-root module, which
                # is not on Maven Central; cluster health is the server's own on every engine.
                try:
                    status, _, health = _http_json(
                        url + "/_cluster/health?wait_for_status=yellow&timeout=30s", timeout=35
                    )
                    if status == 200 and health.get("status") in ("green", "yellow"):
                        proc.url = url
                        return url, proc
                    last_err = f"cluster health: {health}"
                except (urllib.error.URLError, OSError, ValueError) as e:
                    last_err = repr(e)
            time.sleep(0.25)
        raise SearchNodeError(
            f"{engine} node not ready after {timeout:.0f}s ({last_err}); {log_path}:\n{_tail(log_path)}"
        )
    except BaseException:
        stop_node(proc)
        raise


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def stop_node(proc: subprocess.Popen, timeout: float = 30.0) -> int | None:
    """SIGTERM the node's process group (graceful node close), SIGKILL after timeout; wait."""
    if proc.poll() is None:
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode


# ------------------------------------------------------------------------------- pid file CLI


def _pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_our_node(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(e.main_class.encode() in cmdline for e in ENGINES.values())


def stop_pid(pid: int, timeout: float = 30.0) -> bool:
    """Stop a node started by `start` (not our child): TERM its group, KILL after timeout."""
    if not _pid_alive(pid):
        return False
    if not _is_our_node(pid):
        raise SearchNodeError(f"pid {pid} is not a search node launched by this tool; not killing it")
    _kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        _kill_group(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    return True


# ------------------------------------------------------------------------------- smoke check


def smoke_check(url: str, engine: str = "opensearch") -> dict:
    """The engine's smoke test; the result's "ok" says whether every required check passed."""
    if engine == "elasticsearch":
        return _smoke_elasticsearch(url)
    return _smoke_opensearch(url)


def _smoke_opensearch(url: str) -> dict:
    """Custom analyzer with asciifolding + lowercase + edge_ngram + synonym_graph, one doc, search."""

    def req(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(
            url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read().decode())

    _, headers, info = req("GET", "/")
    index = "search_node_smoke"
    with contextlib.suppress(urllib.error.HTTPError):
        req("DELETE", f"/{index}")
    req(
        "PUT",
        f"/{index}",
        {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "analysis": {
                    "filter": {
                        "edge": {"type": "edge_ngram", "min_gram": 2, "max_gram": 15},
                        "syn": {"type": "synonym_graph", "synonyms": ["sofa, couch", "tv, television"]},
                        "wd": {"type": "word_delimiter_graph"},
                    },
                    "analyzer": {
                        "prefix_index": {
                            "tokenizer": "standard",
                            "filter": ["lowercase", "asciifolding", "edge"],
                        },
                        "prefix_search": {
                            "tokenizer": "standard",
                            "filter": ["lowercase", "asciifolding", "syn"],
                        },
                        "sku": {"tokenizer": "whitespace", "filter": ["wd", "lowercase"]},
                    },
                },
            },
            "mappings": {
                "properties": {
                    "title": {"type": "text", "analyzer": "prefix_index", "search_analyzer": "prefix_search"},
                    "sku": {"type": "text", "analyzer": "sku"},
                }
            },
        },
    )
    req("PUT", f"/{index}/_doc/1?refresh=true", {"title": "Canapé Crème Sofa", "sku": "AB-123x"})
    checks = {
        "accent_prefix": {"match": {"title": "crem"}},
        "synonym": {"match": {"title": "couch"}},
        "word_delimiter": {"match": {"sku": "123"}},
    }
    hits = {}
    for name, query in checks.items():
        _, _, res = req("POST", f"/{index}/_search", {"query": query})
        hits[name] = res["hits"]["total"]["value"]
    req("DELETE", f"/{index}")
    return {
        "version": info["version"]["number"],
        "distribution": info["version"].get("distribution", "elasticsearch"),
        "x_elastic_product": {k.lower(): v for k, v in headers.items()}.get("x-elastic-product"),
        "hits": hits,
        "ok": all(v == 1 for v in hits.values()),
    }


def _pom_version(engine: Engine) -> str | None:
    """The engine version the pom pins (<elasticsearch.version>), i.e. what the node must report."""
    m = re.search(
        rf"<{engine.name}\.version>([^<]+)</{engine.name}\.version>",
        (engine.project_dir / "pom.xml").read_text(),
    )
    return m.group(1).strip() if m else None


def _client_python() -> str:
    venv = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.is_file() else sys.executable


# Run in the project's venv: the official client must accept the node on its own (product check).
_CLIENT_INFO = """
import json, sys
import elasticsearch
es = elasticsearch.Elasticsearch(sys.argv[1], request_timeout=30)
health = es.cluster.health()
nodes = es.nodes.info(node_id="_local", metric="_none")["nodes"]
print(json.dumps({"client": elasticsearch.__versionstr__, "version": next(iter(nodes.values()))["version"],
                  "health": health["status"]}))
"""


def _smoke_elasticsearch(url: str) -> dict:
    """Elasticsearch 9 without analysis-common: what the app's mapping relies on, and what is missing.

    Required (decide "ok"): the node reports the pom's version and the server itself sends
    X-Elastic-Product: Elasticsearch; the official elasticsearch-py client (run by the project's
    venv python) accepts the node (its product check) for cluster health and node info; a text field with the standard analyzer
    and index_prefixes takes two documents that a prefix query (rewritten to the prefix field), a
    fuzzy match and a terms aggregation all see; _analyze with standard + lowercase keeps Vietnamese
    diacritics. Informational ("capabilities"): which custom analysis definitions the server accepts.
    """

    def req(method, path, body=None):
        """(status, headers, json); HTTP errors are returned, not raised."""
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(
            url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                return resp.status, dict(resp.headers), json.loads(resp.read().decode() or "null")
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read().decode() or "null")

    def error_reason(res) -> str:
        err = (res or {}).get("error") if isinstance(res, dict) else None
        if isinstance(err, dict):
            root = (err.get("root_cause") or [err])[0]
            return f"{root.get('type')}: {root.get('reason')}"
        return str(res)[:300]

    checks: dict[str, dict] = {}

    def check(name: str, passed: bool, detail) -> None:
        checks[name] = {"ok": bool(passed), "detail": detail}

    expected = _pom_version(ENGINES["elasticsearch"])
    # GET / belongs to the rest-root module, which is not on Maven Central (the node answers 405
    # there); nothing of ours needs it. The version comes from the node info instead.
    _, headers, info = req("GET", "/_nodes/_local?filter_path=nodes.*.version")
    version = next(iter(info["nodes"].values()))["version"]
    product = {k.lower(): v for k, v in headers.items()}.get("x-elastic-product")
    check("version", version == expected, f"{version} (pom: {expected})")
    check("x_elastic_product", product == "Elasticsearch", product)

    try:
        out = subprocess.run(
            [_client_python(), "-c", _CLIENT_INFO, url],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if out.returncode == 0:
            client = json.loads(out.stdout.strip().splitlines()[-1])
            check(
                "official_client",
                client["version"] == version and client["health"] in ("green", "yellow"),
                client,
            )
        else:
            check("official_client", False, (out.stderr.strip().splitlines() or ["no output"])[-1])
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        check("official_client", False, repr(e))

    index = "search_node_smoke"
    req("DELETE", f"/{index}")
    status, _, res = req(
        "PUT",
        f"/{index}",
        {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {
                "properties": {
                    "name": {
                        "type": "text",
                        "analyzer": "standard",
                        "index_prefixes": {"min_chars": 1, "max_chars": 19},
                    },
                    "category": {"type": "keyword"},
                }
            },
        },
    )
    check("create_index", status == 200, res if status == 200 else error_reason(res))
    if status == 200:
        for doc_id, name in (("1", "Mật ong rừng U Minh"), ("2", "Mật ong hoa cà phê")):
            req("PUT", f"/{index}/_doc/{doc_id}", {"name": name, "category": "mat-ong"})
        req("POST", f"/{index}/_refresh")

        def hit_ids(query):
            _, _, r = req("POST", f"/{index}/_search", {"query": query})
            return (
                sorted(h["_id"] for h in r.get("hits", {}).get("hits", []))
                if "hits" in r
                else error_reason(r)
            )

        prefix = {"prefix": {"name": {"value": "mậ"}}}
        found = hit_ids(prefix)
        _, _, explained = req("POST", f"/{index}/_validate/query?explain=true", {"query": prefix})
        rewritten = " ".join(e.get("explanation", "") for e in explained.get("explanations", []))
        check(
            "prefix_query",
            found == ["1", "2"] and "name._index_prefix" in rewritten,
            {"hits": found, "rewritten": rewritten},
        )
        found = hit_ids({"match": {"name": {"query": "ongg", "fuzziness": "AUTO"}}})
        check("fuzzy_match", found == ["1", "2"], {"hits": found})
        _, _, r = req(
            "POST", f"/{index}/_search", {"size": 0, "aggs": {"cat": {"terms": {"field": "category"}}}}
        )
        buckets = [
            (b["key"], b["doc_count"]) for b in r.get("aggregations", {}).get("cat", {}).get("buckets", [])
        ]
        check("terms_aggregation", buckets == [("mat-ong", 2)], buckets)
    req("DELETE", f"/{index}")

    _, _, r = req("POST", "/_analyze", {"tokenizer": "standard", "filter": ["lowercase"], "text": "Mật Ong"})
    tokens = [t["token"] for t in r.get("tokens", [])] if "tokens" in r else error_reason(r)
    check("analyze_lowercase", tokens == ["mật", "ong"], tokens)

    # Informational: what the lead may and may not put in the app's mapping on this node.
    capabilities: dict[str, str] = {}
    probe = "search_node_probe"
    for name, analysis, mapping in (
        (
            "custom_analyzer_standard_lowercase",
            {"analyzer": {"folded": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]}}},
            {"properties": {"t": {"type": "text", "analyzer": "folded"}}},
        ),
        (
            "keyword_normalizer_lowercase",
            {"normalizer": {"lc": {"type": "custom", "filter": ["lowercase"]}}},
            {"properties": {"k": {"type": "keyword", "normalizer": "lc"}}},
        ),
    ):
        req("DELETE", f"/{probe}")
        status, _, r = req(
            "PUT",
            f"/{probe}",
            {
                "settings": {"number_of_shards": 1, "number_of_replicas": 0, "analysis": analysis},
                "mappings": mapping,
            },
        )
        capabilities[name] = "accepted" if status == 200 else f"rejected: {error_reason(r)}"
    req("DELETE", f"/{probe}")
    for name, definition in (
        ("asciifolding", "asciifolding"),
        ("edge_ngram", {"type": "edge_ngram", "min_gram": 1, "max_gram": 5}),
        ("ngram", {"type": "ngram", "min_gram": 2, "max_gram": 3}),
        ("synonym_graph", {"type": "synonym_graph", "synonyms": ["sofa, couch"]}),
        ("synonym", {"type": "synonym", "synonyms": ["sofa, couch"]}),
        ("word_delimiter_graph", "word_delimiter_graph"),
        ("stop", {"type": "stop", "stopwords": ["và"]}),
        ("shingle", {"type": "shingle"}),
    ):
        status, _, r = req(
            "POST", "/_analyze", {"tokenizer": "standard", "filter": [definition], "text": "Crème sofa và"}
        )
        capabilities[f"filter:{name}"] = "available" if status == 200 else f"missing: {error_reason(r)}"

    return {
        "version": version,
        "x_elastic_product": product,
        "checks": checks,
        "capabilities": capabilities,
        "ok": all(c["ok"] for c in checks.values()),
    }


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build", help="resolve jars and compile the launcher (cached)")
    p_build.add_argument("--engine", choices=sorted(ENGINES), default="opensearch")
    p_build.add_argument("--verbose", action="store_true")
    p_start = sub.add_parser("start", help="start a node in the background, print its URL")
    p_start.add_argument("--engine", choices=sorted(ENGINES), default="opensearch")
    p_start.add_argument("--port", type=int, default=0, help="0 = any free port")
    p_start.add_argument("--data", required=True, help="directory for the node's data/config/logs")
    p_start.add_argument("--pidfile", required=True)
    p_start.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    p_stop = sub.add_parser("stop", help="stop the node recorded in a pid file")
    p_stop.add_argument("--pidfile", required=True)
    p_stop.add_argument("--timeout", type=float, default=30.0)
    p_check = sub.add_parser("check", help="start a throw-away node, run an analyzer smoke test, stop")
    p_check.add_argument("--engine", choices=sorted(ENGINES), default="opensearch")
    args = ap.parse_args(argv)

    try:
        if args.cmd == "build":
            t0 = time.monotonic()
            cp = build(args.engine, verbose=args.verbose)
            print(
                f"{args.engine}: {len(cp)} classpath entries, "
                f"{ENGINES[args.engine].build_dir / 'classpath.txt'} ({time.monotonic() - t0:.1f}s)",
                file=sys.stderr,
            )
        elif args.cmd == "start":
            url, proc = start_node(args.engine, args.data, args.port, timeout=args.timeout)
            pidfile = Path(args.pidfile)
            pidfile.parent.mkdir(parents=True, exist_ok=True)
            pidfile.write_text(f"{proc.pid}\n")
            proc.returncode = 0  # detach: keep Popen.__del__ quiet; the node outlives us
            print(url, flush=True)
        elif args.cmd == "stop":
            pidfile = Path(args.pidfile)
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                print(f"no pid in {pidfile}", file=sys.stderr)
                return 1
            stopped = stop_pid(pid, timeout=args.timeout)
            pidfile.unlink(missing_ok=True)
            if not stopped:
                print(f"pid {pid} was not running", file=sys.stderr)
        elif args.cmd == "check":
            with tempfile.TemporaryDirectory(prefix=f"search-node-{args.engine}-") as d:
                t0 = time.monotonic()
                url, proc = start_node(args.engine, d)
                started = time.monotonic() - t0
                try:
                    result = smoke_check(url, args.engine)
                    rss_kb = None
                    with contextlib.suppress(OSError):
                        m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{proc.pid}/status").read_text())
                        rss_kb = int(m.group(1)) if m else None
                finally:
                    stop_node(proc)
                result.update(
                    url=url, start_seconds=round(started, 1), rss_mb=round(rss_kb / 1024) if rss_kb else None
                )
                print(json.dumps(result, indent=2, ensure_ascii=False))
                return 0 if result["ok"] else 1
    except SearchNodeError as e:
        print(f"search_node: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
