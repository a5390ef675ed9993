"""The index layer: what exists on package indexes and find-links locations, and its metadata.

The resolver talks to :class:`lockcheck.index.finder.PackageFinder` only; settings come from
:class:`lockcheck.index.settings.IndexSettings` (pip.conf, ``PIP_*``, then caller overrides).

    settings.py   IndexSettings, from_pip_config(), pip_env()      (no httpx import)
    pipconfig.py  pip's configuration files and PIP_* variables, in pip's order
    finder.py     PackageFinder: the resolver's Index; run-wide memos and prefetch
    fetchhelper.py  a forked process (Linux) that fetches and parses a cold run's index
                  pages into the cache on another core; the run reads them back
    sources.py    index pages and find-links listings of a project (cached, revalidated)
    metadatachain.py  a file's metadata from the cheapest place: cache, PEP 658, Range
                  reads, the whole wheel, a PEP 517 build
    direct.py     direct references: local trees, archives by path or URL, git
    downloads.py  files downloaded once per run into the cache, verified by hash
    http.py       httpx client: auth, retries, error mapping; built on the first request
    sending.py    the client's send for GETs, without its per-request costs
    tls.py        TLS contexts: system CAs loaded once, or a CA bundle (ssl loads here)
    tlsfiles.py   the CA bundle / client certificate files named, checked before any work
    tlsearly.py   contexts built in a thread; a cold compile's trust store loaded as the
                  program starts, before the fetch helper's fork
    heap.py       glibc: big page buffers returned to the system once freed
    transport.py  httpx transport on http.client for direct connections (keep-alive pool)
    auth.py       credentials per host from index URLs and ~/.netrc
    pages.py      PEP 691 JSON / PEP 503 HTML pages into links and DistFiles (JSON entries
                  kept raw and decoded per version on demand)
    jsonscan.py   a JSON page's file names read off its raw text; an entry's span found
                  only when it is kept
    anchors.py    the <a>/<base> tags of an HTML page (html.parser, imported on demand)
    projectfiles.py  a project's files grouped by version, built on demand
    packedpage.py a page's parsed cache entry: every version, the newest ones' entries as
                  spans of the raw body, decoded per version on demand
    filenames.py  wheel / sdist file names (legacy sdist names included)
    lazywheel.py  a remote wheel read through HTTP Range requests
    wheelzip.py   METADATA straight from a wheel's zip central directory (zipfile fallback)
    metadata.py   METADATA of wheels; identity check against the file name
    building.py   the door to lockcheck.build (PEP 517 metadata preparation)
    vcs.py        git direct references: cached mirrors and per-commit checkouts
    cache.py      the on-disk cache (pages with their parsed form, metadata, files, git),
                  one atomic write per entry
    once.py       run-once-per-key memoisation shared between threads

Submodules are imported explicitly; importing this package imports nothing heavy.
"""

__all__: list[str] = []
