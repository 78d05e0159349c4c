"""One lane per chat: a chat's work runs in arrival order, different chats side by side."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.base.redaction import safe_trace

log = logging.getLogger("weerbaar.telegram")

Job = Callable[[], Awaitable[None]]


class ChatLanes:
    """Queues jobs per chat and runs at most `limit` jobs at once across all chats."""

    def __init__(self, limit: int) -> None:
        self._queues: dict[int, deque[Job]] = {}
        self._slots = asyncio.Semaphore(limit)
        self._workers: set[asyncio.Task[None]] = set()

    def submit(self, chat_id: int, job: Job) -> None:
        """Queue a job behind the chat's earlier jobs (synchronous, so arrival order holds)."""
        queue = self._queues.get(chat_id)
        if queue is not None:
            queue.append(job)
            return
        self._queues[chat_id] = deque([job])
        worker = asyncio.get_running_loop().create_task(self._work(chat_id))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    def busy(self, chat_id: int) -> bool:
        return chat_id in self._queues

    async def _work(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                job = queue[0]
                async with self._slots:
                    try:
                        await job()
                    except Exception as error:
                        log.error("telegram job failed: %s", safe_trace(error))
                queue.popleft()
        finally:
            del self._queues[chat_id]

    async def idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued job has run (at most `timeout` seconds); False if some still run."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._workers:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            done, _ = await asyncio.wait(list(self._workers), timeout=left)
            self._workers.difference_update(done)  # also before their done callbacks have run
        return True

    async def close(self, timeout: float = 5.0) -> None:
        """Stop every lane; queued jobs that did not start are dropped."""
        for worker in list(self._workers):
            worker.cancel()
        if self._workers:
            done, _ = await asyncio.wait(list(self._workers), timeout=timeout)
            self._workers.difference_update(done)
