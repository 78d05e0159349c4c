"""The NLU service as a child process of the bot: started on an ephemeral loopback port with
a random token, ready when its model is loaded and warm, stopped with the bot.

Imports nothing from Rasa: the service runs in the Rasa environment (.venv-nlu), this module
in the bot's.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from nlu import FALLBACK_THRESHOLD, NLU, NLUUnavailable
from nlu.parsing import RasaNLU, connect_remote, load_local
from nlu.training import ROOT, model_file, nlu_python

log = logging.getLogger("weerbaar.nlu")
READY_SECONDS = 180.0
STOP_SECONDS = 10.0
RESTART_SECONDS = (1.0, 5.0, 30.0)  # waits before the first, second and later restarts


def children(pid: int) -> set[int]:
    """The child processes of process `pid` (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def _no_orphan() -> None:
    """In the child: die with the parent, even when the parent is killed (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class NLUService:
    """A running `python -m nlu serve` child process."""

    process: asyncio.subprocess.Process
    port: int
    token: str
    _watcher: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def supervise(self) -> None:
        """Start it again, on the same port with the same token, whenever it exits."""
        self._watcher = asyncio.get_running_loop().create_task(self._restarts())

    async def _restarts(self) -> None:
        failures = 0
        while True:
            code = await self.process.wait()
            if failures == 0:
                log.warning("NLU service stopped (exit code %s); starting it again", code)
            await asyncio.sleep(RESTART_SECONDS[min(failures, len(RESTART_SECONDS) - 1)])
            try:
                self.process = (await start_service(self.port, self.token)).process
            except NLUUnavailable as problem:
                failures += 1
                if failures == 1:
                    log.warning("NLU service does not start again yet: %s", problem)
                continue
            failures = 0
            log.info("NLU service running again on port %d", self.port)

    async def stop(self) -> None:
        """Close its stdin (it stops by itself), then TERM, then KILL; wait until it is gone."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        process = self.process
        if process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            for stop in (None, process.terminate, process.kill):
                if stop is not None:
                    with contextlib.suppress(ProcessLookupError):
                        stop()
                try:
                    await asyncio.wait_for(process.wait(), STOP_SECONDS)
                    break
                except TimeoutError:
                    continue
        await process.wait()


async def start_service(port: int = 0, token: str | None = None) -> NLUService:
    """Start the NLU service (training the model first if needed) and wait until it is ready."""
    token = token or secrets.token_urlsafe(24)
    env = {**os.environ, "NLU_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        str(nlu_python()),
        "-m",
        "nlu",
        "serve",
        "--port",
        str(port),
        "--exit-with-stdin",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=None,  # its few log lines go where the bot's go
        preexec_fn=_no_orphan,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), READY_SECONDS)
        ready = json.loads(line or b"{}")
        service = NLUService(process, int(ready["port"]), token)
    except BaseException as error:
        await NLUService(process, port, token).stop()
        if isinstance(error, asyncio.CancelledError | KeyboardInterrupt):
            raise
        raise NLUUnavailable(
            f"De NLU-service start niet / the NLU service does not start "
            f"({type(error).__name__}, exit code {process.returncode})"
        ) from None
    return service


async def embedded_nlu(threshold: float = FALLBACK_THRESHOLD) -> RasaNLU:
    """Start the NLU service as a child and connect to it; closing the NLU stops the child."""
    service = await start_service()
    try:
        nlu = await connect_remote(service.url, service.token, threshold)
    except BaseException:
        await service.stop()
        raise
    service.supervise()
    nlu.add_close(service.stop)
    return nlu


async def load_nlu(
    model_dir: Path | None = None, *, remote_url: str | None = None, token: str | None = None
) -> NLU:
    """Connect to a Rasa server at `remote_url` with `token`; else, in the bot's environment
    (no Rasa), start our NLU service as a child process (closing the NLU stops it); else load
    the model for the current data and config (or `model_dir`) into this process."""
    if remote_url:
        return await connect_remote(remote_url, token)
    if model_dir is None and importlib.util.find_spec("rasa") is None:
        return await embedded_nlu()
    path = model_file(model_dir)
    if not path.exists():
        raise NLUUnavailable(
            f"Geen NLU-model voor de huidige data en config.yml ({path}); draai `python -m nlu "
            f"train`. / No NLU model for the current data and config.yml; run `python -m nlu train`."
        )
    return await load_local(path)
