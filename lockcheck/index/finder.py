"""PackageFinder: what exists on the configured indexes and find-links, and its metadata.

The resolver's only door to the network (it implements :class:`lockcheck.resolve.protocol.
Index`).  It asks for a project's files (:meth:`PackageFinder.project_files`) and a file's
core metadata (:meth:`PackageFinder.metadata`); both are memoised for the run (each page and
each (name, version) metadata is fetched once, whichever thread asks first) and backed by the
on-disk cache.  ``prefetch_*`` start the same work in a bounded thread pool so that by the
time the single-threaded resolver asks, the answer is usually in memory.

The work itself is done by one part each: :mod:`~lockcheck.index.sources` (pages and
find-links listings), :mod:`~lockcheck.index.metadatachain` (metadata from the cheapest
place that has it), :mod:`~lockcheck.index.direct` (direct references) and
:mod:`~lockcheck.index.downloads` (files, verified).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from lockcheck.errors import redact_url
from lockcheck.index.building import Builds
from lockcheck.index.cache import Cache, default_cache_dir
from lockcheck.index.direct import DirectReferences
from lockcheck.index.downloads import Downloads
from lockcheck.index.metadatachain import MetadataChain
from lockcheck.index.once import OnceMap
from lockcheck.index.projectfiles import ProjectFiles
from lockcheck.index.settings import IndexSettings
from lockcheck.index.sources import ACCEPT, SourcePages, make_sources
from lockcheck.index.urls import is_remote
from lockcheck.metadata import GIVEN as metadata_warnings
from lockcheck.metadata import warn_once
from lockcheck.models import CoreMetadata, DistFile

if TYPE_CHECKING:
    import httpx

    from lockcheck.cutoff import CutOff, UploadJudge
    from lockcheck.forking import ForkedCall
    from lockcheck.index.fetchhelper import FetchHelper, Server
    from lockcheck.index.http import HttpSession
    from lockcheck.resolve.protocol import FilePicker, NamesOf, Wanted

__all__ = ["ACCEPT", "PackageFinder"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds the fetch helper's fork waits for the trust store loaded at the start
#: (:mod:`lockcheck.index.tlsearly`; it takes about 25 ms and began long before).
_EARLY_TLS_WAIT = 1.0


class PackageFinder:
    """Index and find-links access for one run (thread-safe, memoised, cached on disk)."""

    def __init__(
        self,
        settings: IndexSettings,
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        max_workers: int = 8,
        cutoff: CutOff | None = None,
    ) -> None:
        from lockcheck.index.http import HttpSession  # httpx: only once a finder is made

        self.settings = settings
        self._environ = os.environ if environ is None else environ
        self.cache = Cache(settings.cache_dir or default_cache_dir(self._environ))
        self._session: HttpSession = HttpSession(
            settings, environ=self._environ, transport=transport
        )
        sources = make_sources(settings)
        #: Judges files by upload time when a cut-off is set (None: every file counts).
        self.judge: UploadJudge | None = None
        if cutoff is not None and cutoff.active:
            from lockcheck.cutoff import UploadJudge  # here: only with --exclude-newer

            shown = {s.label: redact_url(s.url) for s in sources}
            self.judge = UploadJudge(cutoff, lambda label: shown.get(label, label))
        admit = self.judge.admits if self.judge is not None else None
        self._listing = SourcePages(settings, self._session, self.cache, sources, admit)
        self._downloads = Downloads(self._session, self.cache)
        builds = Builds(settings)
        self._chain = MetadataChain(settings, self._session, self.cache, self._downloads, builds)
        self._references = DirectReferences(settings, self.cache, self._downloads, builds)
        self._max_workers = max_workers
        #: Index pages fetched and parsed by a forked process: in the ``lockcheck`` program
        #: only (a program calling the library keeps to its one process), and not with a
        #: test's own transport; see :mod:`lockcheck.index.fetchhelper`.
        self._forks_allowed = transport is None and bool(
            getattr(sys.modules.get("lockcheck._entry"), "COMMAND", False)
        )
        self._helper_allowed = (
            self._forks_allowed and self._environ.get("LOCKCHECK_FETCH_HELPER") != "0"
        )
        self._helper: FetchHelper | None = None
        self._helper_temps: Path | None = None  # its unfinished entries (set with it)
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._pool_lock = threading.Lock()
        self._idle = threading.Condition(self._pool_lock)
        self._running = 0  # prefetch tasks running now
        self._projects: OnceMap[NormalizedName, ProjectFiles] = OnceMap()
        metadata_warnings.clear()  # a new run: each warning about metadata given once again
        self._metadata: OnceMap[tuple[NormalizedName, Version], CoreMetadata] = OnceMap()
        self._by_url: OnceMap[str, CoreMetadata] = OnceMap()
        self._walked: set[tuple[NormalizedName, str]] = set()  # (project, extra or "")
        self._hinted: set[NormalizedName] = set()
        #: Work for the pool, front first: each pool task runs whichever is first when a
        #: thread is free (the pool's own queue only keeps order of arrival).
        self._queue: deque[Callable[[], object]] = deque()
        self._direct: OnceMap[tuple[str, str, bool], tuple[CoreMetadata, DistFile | None]] = (
            OnceMap()
        )

    # ------------------------------------------------------------------------------------
    # public protocol
    # ------------------------------------------------------------------------------------

    def project_files(self, name: NormalizedName | str) -> list[DistFile]:
        """All files of the project from every index and find-links location, de-duplicated
        by filename (first source wins: index-url, extra-index-urls, find-links); [] when no
        source knows it.  Raises IndexUnavailable when a source cannot answer."""
        return list(self._project(name, asked=True))

    def answers_locally(self, name: NormalizedName | str) -> bool:
        """Whether the project's files come from the cache (or local sources) alone: no
        server is asked for them."""
        key = canonicalize_name(name)
        return self._projects.done(key) or self._listing.answers_locally(key)

    def project_versions(self, name: NormalizedName | str) -> Mapping[Version, Sequence[DistFile]]:
        """The project's files by version, built only for the versions that are looked at
        (what the resolver uses: most of a big project's files are never built)."""
        return self._project(name, asked=True).by_version()

    def _project(self, name: NormalizedName | str, *, asked: bool = False) -> ProjectFiles:
        """*asked*: by the resolver, which waits: a page the fetch helper has yet to fetch
        is fetched before the others it has waiting."""
        key = canonicalize_name(name)
        if asked and not self._projects.done(key):
            self._listing.send_ahead(key, first=True)
        return self._projects.get(key, lambda: self._listing.collect(key))

    def metadata(self, file: DistFile) -> CoreMetadata:
        """Core metadata of *file*, fetched at most once per (name, version) in this run."""
        key = (file.name, file.version)
        # Both memos forget a failure: a prefetch thread's timeout must not become the
        # resolver's answer (the resolver's own call tries again).
        return self._metadata.get(
            key,
            lambda: self._by_url.get(file.url, lambda: self._chain.load(file), forget_errors=True),
            forget_errors=True,
        )

    def prefetch_pages(self, names: Iterable[NormalizedName | str]) -> None:
        """Start fetching these projects' pages in the background, before the graph walk's
        queued steps: these are the resolver's next questions."""
        keys: list[NormalizedName] = []
        with self._pool_lock:
            for name in names:
                key = canonicalize_name(name)
                if key not in self._hinted:
                    self._hinted.add(key)
                    keys.append(key)
        fetch = [
            k for k in keys if k not in self._projects and not self._listing.answers_locally(k)
        ]
        if not fetch:
            return
        with self._pool_lock:
            self._start_pool()  # (and the fetch helper, the first time)
        if (
            self._helper is not None
            and self._helper.running
            and all(source.kind == "index" for source in self._listing.sources)
        ):
            # The helper fetches them next; no thread of the pool need wait for them (the
            # pool's threads are for the walk's steps, which read metadata too).  (A remote
            # find-links page is no request of the helper's: a pool thread fetches it.)
            for key in fetch:
                self._listing.send_ahead(key, first=True)
            return
        self._submit_all(self._project, fetch, urgent=True)

    def prefetch_graph(
        self,
        wanted: Iterable[Wanted],
        pick: FilePicker,
        dependencies: NamesOf,
    ) -> None:
        """Walk the likely dependency graph ahead of the resolver, in the background.

        For each project: fetch its page, ask *pick* which files the resolver will most
        likely take (usually one), fetch their metadata, then do the same for *dependencies*
        of each, under the extras asked of it (``jsonschema[format]`` needs more than
        ``jsonschema``).  Every project and each of its extras is visited once per run; the
        callbacks must be thread-safe and cheap.
        """
        for name, extras in wanted:
            self._walk(canonicalize_name(name), extras, pick, dependencies)

    def _walk(
        self,
        name: NormalizedName,
        extras: frozenset[str],
        pick: FilePicker,
        dependencies: NamesOf,
    ) -> None:
        with self._pool_lock:
            new = [e for e in ("", *extras) if (name, e) not in self._walked]
            if not new:
                return
            self._walked.update((name, e) for e in new)
        asked = frozenset(e for e in new if e)  # ("": the project itself)

        def deps_of(file: DistFile) -> None:
            for dep, dep_extras in dependencies(self.metadata(file), asked):
                self._walk(canonicalize_name(dep), dep_extras, pick, dependencies)

        def step(project: NormalizedName) -> None:
            for file in pick(project, self._project(project).by_version()):
                deps_of(file)

        # Background threads are for the network: what the cache answers is read here, in
        # the asking thread (on another one it would only contend for the interpreter lock:
        # a tenth of a warm compile's CPU went to handing it over).
        if not self._listing.answers_locally(name):
            # The step waits in the queue until the helper has the page (a pool thread is
            # for the metadata reads, not for waiting on the helper).
            out = self._listing.send_ahead(name)
            _when_all(out, partial(self._submit_all, step, [name], urgent=False))
            return

        def here() -> None:
            remote: list[DistFile] = []
            for file in pick(name, self._project(name).by_version()):
                if self._chain.answers_locally(file):
                    deps_of(file)
                else:
                    remote.append(file)
            self._submit_all(deps_of, remote, urgent=False)

        _prefetch(here)

    def cutoff_note(self, name: NormalizedName) -> str | None:
        """Why the release cut-off hides *name*'s files (None: no cut-off hides any)."""
        return self.judge.explain(name) if self.judge is not None else None

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Copy *file* (downloaded, or from the cache) into *dest_dir*, verified against its
        hashes; returns the new path."""
        source = self._downloads.fetch(file)
        dest_dir = Path(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / file.filename
        if not (dest.exists() and os.path.samefile(source, dest)):
            tmp = dest.with_name(f".{dest.name}.part")
            shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
        return dest

    def sha256(self, file: DistFile) -> str:
        """Hex sha256 of *file*: from the index when given, else by hashing the file."""
        return self._downloads.sha256(file)

    def direct_metadata(
        self, link: str, *, base_dir: Path, editable: bool = False
    ) -> tuple[CoreMetadata, DistFile | None]:
        """Metadata of a direct reference: a local directory, a local or remote wheel/sdist
        (path, file:// or http(s):// URL), or ``git+<url>[@ref][#subdirectory=...]``.  The
        DistFile (with its sha256) is returned for archives, None for trees and VCS."""
        key = (link.strip(), str(base_dir), editable)
        return self._direct.get(
            key, lambda: self._references.load(key[0], Path(base_dir), editable)
        )

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
            self._closed = True
            self._queue.clear()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if self._helper is not None:
            self._helper.close()
        if self._helper_temps is not None:
            shutil.rmtree(self._helper_temps, ignore_errors=True)
        self._session.close()
        self.cache.close()

    def __enter__(self) -> PackageFinder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _submit_all(self, fn: Callable[[T], object], args: Sequence[T], *, urgent: bool) -> None:
        """Queue ``fn(arg)`` for each of *args*, in their order, at the back of the queue or
        (*urgent*) at its front."""
        if not args:
            return
        tasks = [partial(fn, arg) for arg in args]
        with self._pool_lock:
            pool = self._start_pool()
            if pool is None:
                return  # a step still running when the run ended: nothing more starts
            if urgent:
                self._queue.extendleft(reversed(tasks))
            else:
                self._queue.extend(tasks)
            for _ in tasks:
                pool.submit(self._run_first)

    def _start_pool(self) -> ThreadPoolExecutor | None:
        """(Pool lock held.) The pool, started the first time with the fetch helper before
        it (None: the run ended)."""
        if self._closed:
            return None
        if self._pool is None:
            warm = False
            if self._helper_allowed:
                self._start_helper()  # before the first thread
                warm = self._helper is not None and self.cache.holds_no_metadata()
            self._pool = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="lockcheck-index"
            )
            if warm:
                self._queue.appendleft(self._warm_session)
                self._pool.submit(self._run_first)
        return self._pool

    def _warm_session(self) -> None:
        """(A cold run's first pool task.) Import the HTTP client and start loading the
        trust store while the helper fetches the first pages: the run's first metadata
        read needs both, about 80 ms that were on the critical path."""
        self._session.sender  # noqa: B018 (built on first use)

    def _start_helper(self) -> None:
        """(Pool lock held, no thread started yet.) Fork the fetch helper where it can
        help: a remote index, a writable cache, cache entries this run may use as they are."""
        settings = self.settings
        if settings.offline or settings.refresh or not self.cache.writable:
            return
        if not any(s.kind == "index" and is_remote(s.url) for s in self._listing.sources):
            return
        from lockcheck.index import tlsearly

        if not tlsearly.settle(_EARLY_TLS_WAIT):
            return  # the fork would copy the trust store half-loaded (it is slow: no helper)
        from lockcheck.index.fetchhelper import FetchHelper

        try:  # (not later: this run's own such directories would go too)
            _remove_orphaned_helper_dirs(self.cache.tmp_dir())
        except OSError:
            return
        temps = self._child_temps("")
        if temps is None:
            return
        helper = FetchHelper(
            partial(_helper_server, settings, dict(self._environ), self.cache.root, temps),
            answer_wait=4 * settings.timeout + 10,
        )
        if helper.start():
            self._helper = self._listing.helper = helper
            self._helper_temps = temps
        else:
            shutil.rmtree(temps, ignore_errors=True)

    def _child_temps(self, kind: str) -> Path | None:
        """A directory for a forked process's unfinished cache entries, removed with it
        (``helper-<this run's pid>-<kind>*``: a killed run's are removed by the next cold
        run once that pid is gone); None when the cache has no room for one."""
        try:
            prefix = f"helper-{os.getpid()}-{kind}"
            return Path(tempfile.mkdtemp(prefix=prefix, dir=self.cache.tmp_dir()))
        except OSError:
            return None

    def _run_first(self) -> None:
        with self._pool_lock:
            if not self._queue:
                return  # closed meanwhile
            task = self._queue.popleft()
            self._running += 1
        try:
            _prefetch(task)
        finally:
            with self._pool_lock:
                self._running -= 1
                if not self._running:
                    self._idle.notify_all()

    # ------------------------------------------------------------------------------------
    # a forked copy of the run (universal locks resolve half their environments in one)
    # ------------------------------------------------------------------------------------

    def fork_call(self, call: Callable[[], T], *, settle: float = 1.0) -> ForkedCall | None:
        """*call* run in a forked copy of this run, on what this run holds in memory (what
        it lacks it fetches on connections of its own); None when forking is not safe or
        not allowed here.  What the copy noted on the way (warnings about metadata, the
        cut-off's findings) is this run's too once its answer is read.

        The fork waits (*settle* s in all, at most) until no prefetch task runs and no
        trust store loads, and holds the pool's lock through it, so no task starts: an idle
        thread holds nothing the copy could wait for.  The prefetch queue is the run's
        again afterwards.
        """
        if not self._forks_allowed or self._environ.get("LOCKCHECK_FORK") == "0":
            return None
        from lockcheck.forking import ForkedCall, report
        from lockcheck.index import tlsearly

        temps = self._child_temps("fork-")
        if temps is None:
            return None
        deadline = time.monotonic() + settle
        forked: ForkedCall | None = None
        with self._pool_lock:
            saved = list(self._queue)
            self._queue.clear()
            try:
                while self._running and time.monotonic() < deadline:
                    self._idle.wait(deadline - time.monotonic())
                if not self._running:
                    # A task that ran meanwhile may have built the client, whose TLS context
                    # loads in a thread of its own (OpenSSL at work, also while plain-HTTP
                    # requests go on): the copy must not inherit it half-loaded.  A load
                    # still running at the deadline is a busy thread: no fork then.
                    self._session.settle(max(0.0, deadline - time.monotonic()))
                    tlsearly.settle(max(0.0, deadline - time.monotonic()))
                busy = _busy_threads()
                if self._running or busy:
                    report(f"no fork: {self._running} tasks running, other threads {busy}")
                else:
                    forked = ForkedCall.start(
                        partial(self._in_forked_copy, call, temps),
                        on_answer=self._adopt_findings,
                        on_stop=partial(shutil.rmtree, temps, ignore_errors=True),
                    )
            finally:
                self._queue.extendleft(reversed(saved))
                if saved and self._pool is not None:
                    for _ in saved:
                        self._pool.submit(self._run_first)
        if forked is None:
            shutil.rmtree(temps, ignore_errors=True)
        return forked

    def _in_forked_copy(
        self, call: Callable[[], T], temps: Path
    ) -> tuple[T, tuple]:  # pragma: no cover (in the copy)
        """(In the copy.) Nothing more for the background threads (they are not copied;
        one may have held the pool's lock at the fork, so it is a new one), no fetch helper
        (it is the run's), connections of its own (the copied ones are the run's)."""
        self._pool_lock = threading.Lock()
        self._idle = threading.Condition(self._pool_lock)
        self._pool, self._queue, self._running = None, deque(), 0  # a pool of its own
        self._hinted = set()  # (what the run walked ahead is walked for every environment)
        self._helper_allowed = False
        self._helper = self._listing.helper = None
        self._session.forget_connections()
        self.cache.write_entries_in(temps)
        given = len(metadata_warnings)
        value = call()
        judged = self.judge.findings() if self.judge is not None else None
        return value, (list(metadata_warnings)[given:], judged)

    def _adopt_findings(self, answer: object) -> object | None:
        """The copy's value; what it noted becomes this run's (warnings given here once)."""
        if not (isinstance(answer, tuple) and len(answer) == 2):
            return None
        value, (warned, judged) = answer
        for message in warned:
            warn_once(message)
        if judged is not None and self.judge is not None:
            self.judge.adopt(judged)
        return value


def _when_all(futures: Sequence[Future[bool]], then: Callable[[], object]) -> None:
    """Call *then* once every one of *futures* is done (at once when there are none), in
    the thread that finishes the last one."""
    if not futures:
        then()
        return
    left = [len(futures)]
    lock = threading.Lock()

    def one_done(_future: Future[bool]) -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            then()

    for future in futures:
        future.add_done_callback(one_done)


def _busy_threads() -> list[str]:
    """The other threads whose state a fork may not copy: all but the pool's (idle: the
    caller waited for that), the fetch helper's answer reader (waiting on its pipe) and the
    terminal's spinner (the copy never touches the console)."""
    from lockcheck.forking import is_console_spinner

    current = threading.current_thread()
    return [
        thread.name
        for thread in threading.enumerate()
        if thread is not current
        and not thread.name.startswith(("lockcheck-index", "lockcheck-fetchhelper"))
        and not is_console_spinner(thread)
    ]


def _remove_orphaned_helper_dirs(tmp: Path) -> None:
    """The entries a killed run's helper left unfinished (``helper-<pid>-*``, the run's
    pid): removed once that run is gone.  A live run's (another compile now) stays."""
    for entry in os.scandir(tmp):
        name = entry.name
        if not name.startswith("helper-"):
            continue
        pid = name.split("-")[1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # that run is still going
            except ProcessLookupError:
                pass
            except OSError:
                continue  # alive under another user
        shutil.rmtree(entry.path, ignore_errors=True)


def _helper_server(
    settings: IndexSettings, environ: Mapping[str, str], cache_root: Path, temps: Path
) -> Server:
    """(In the fetch helper.) Its own session and cache handle, no retries (the run's own
    attempt retries): each index page fetched, parsed and stored as the run would."""
    from lockcheck.index.http import HttpSession

    settings = replace(settings, retries=0)
    session = HttpSession(settings, environ=environ)
    cache = Cache(cache_root, entry_temps=temps, warn=False)
    pages = SourcePages(settings, session, cache, make_sources(settings))

    def serve(fields: Sequence[str]) -> bool:
        kind, *args = fields
        if kind == "page":
            url, label, project, count = args
            return pages.fetch_for_helper(url, label, project, int(count))
        return False

    return serve


def _prefetch(task: Callable[[], object]) -> None:
    """Run a prefetch step; a failure is only logged: it is kept in the memo, and the
    resolver sees it when it asks."""
    try:
        task()
    except Exception as exc:
        _log.debug("prefetch failed: %s", redact_url(str(exc)))
