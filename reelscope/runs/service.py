"""Starting runs and finding them again: one way for every page that asks a model.

Runs belong to their owner, not to the browser session that started them: a reload, another
tab or a page visit finds a run in the process's task registry by its id, and the sidebar lists
the owner's live runs with Stop and Open. A run ends by itself (its answer, an error, a
timeout) or by Stop; the registry forgets it a while after, once the store has kept it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from google.genai import Client, types

from reelscope.catalog import Model
from reelscope.generation.events import StopReason
from reelscope.generation.request import CheckedSources, build_request
from reelscope.generation.runner import Pacer, RetryPolicy, Target, generate_events
from reelscope.parameters import GenerationParams
from reelscope.runs.run import Run, RunSpec, SourceRef
from reelscope.runs.worker import EventSource, worker
from reelscope.tasks import LOCAL_OWNER, TaskRegistry
from reelscope.vertex import backend_of


class Runs:
    """Starts runs on the process's worker and keeps them in the task registry."""

    def __init__(
        self, registry: TaskRegistry, on_start: Callable[[Run], None] | None = None
    ) -> None:
        """`on_start` hears each run before its worker starts (e.g. a store subscribing)."""
        self._registry = registry
        self._on_start = on_start

    def start_generation(
        self,
        client: Client,
        model: Model,
        checked: CheckedSources,
        prompt: str,
        params: GenerationParams,
        *,
        target: Target,
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
        media_resolution: str | None = None,
        response_schema: types.Schema | None = None,
        extra: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ) -> Run:
        """Build the request from sources checked against `model`, record its spec, start it.

        The one place a page starts a generation (Ask, Chapters, Side by side).
        """
        request = build_request(
            model,
            checked,
            prompt,
            params,
            media_resolution=media_resolution,
            response_schema=response_schema,
        )
        spec = RunSpec(
            model.id,
            prompt,
            params,
            tuple(map(SourceRef.of, checked.sources)),
            params.stream,
            extra={**(extra or {}), **({"origin": origin} if origin else {})},
        )
        return self.start(
            spec,
            client,
            request,
            target=target,
            owner=owner,
            origin=origin,
            retry=retry,
            pacer=pacer,
        )

    def start(
        self,
        spec: RunSpec,
        client: Client,
        request,
        *,
        target: Target,
        owner: str = LOCAL_OWNER,
        origin: str | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ) -> Run:
        """Start `request` as a run; with a `pacer`, its calls share a quota with others. The
        run records which backend answers it (`extra["backend"]`), never how it signs in."""
        spec = replace(spec, extra={**spec.extra, "backend": backend_of(client)})
        run = Run(spec, owner=owner, origin=origin)

        def events():
            return generate_events(
                client,
                request,
                run.elapsed,
                stream=spec.stream,
                target=target,
                retry=retry,
                pacer=pacer,
            )

        return self.adopt(run, events)

    def adopt(self, run: Run, events: EventSource) -> Run:
        """Start `run` on the worker from any event source (a generation, a replay)."""
        self._registry.add(run)
        if self._on_start is not None:
            self._on_start(run)
        worker().submit(run, events)
        return run

    def get(self, run_id: str | None) -> Run | None:
        """The run with this id while the registry remembers it (live, or recently ended)."""
        task = self._registry.get(run_id)
        return task if isinstance(task, Run) else None

    def live(self, owner: str | None = None) -> list[Run]:
        """The owner's runs still going (everyone's when `owner` is None), newest first."""
        return [t for t in self._registry.tasks(owner=owner, kind=Run.kind, live=True)]

    def stop_all(self, reason: StopReason = StopReason.SERVER_STOPPED) -> int:
        """Stop every live run (the server is shutting down); how many were stopped."""
        return sum(run.stop(reason) for run in self.live())
