"""Lab: one prompt in up to four wordings × up to four models × a row per video, run online or
as Vertex AI batch jobs, with the cost known before and the results side by side after.

The page lays out the grid's definition, its plan (checks and cost), the launch, and the
current lab's results and jobs; the work is in reelscope/lab/ and each lab is kept in the
store, its cells as runs (History lists them too).
"""

from __future__ import annotations

import streamlit as st

from components.chapters.open_kept import open_kept
from components.common import app_frame, clicks, follow, kept, resources, running
from components.lab import delete_lab, grid_form, jobs_view, plan_view, results_view
from components.lab.current import CURRENT_KEY
from reelscope.chapters.analysis import analysis_extra
from reelscope.chapters.modes import response_schema
from reelscope.gemini_files import FileBook
from reelscope.generation.runner import Target
from reelscope.lab import batch, launch
from reelscope.lab.batch_jobs import BatchError
from reelscope.lab.grid import GridSpec, check_grid
from reelscope.lab.online import OnlineGrid
from reelscope.lab.pacing import QuotaLimiter
from reelscope.lab.plan import BATCH, ONLINE, Plan, plan_grid
from reelscope.lab.sources import list_prefix, row_sources
from reelscope.owners import NotYours
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_VERTEX
from reelscope.storage import StagingError
from reelscope.store import app_version
from reelscope.store.labs import LabRow

app_frame.run_through_entrypoint()

FORM = "lab.form"
GRID_KIND = OnlineGrid.kind

settings = resources.settings()
catalog = resources.catalog()
today = resources.today()
owner = resources.owner()
registry = resources.tasks()
runs = resources.runs()
store = resources.store_if_open(settings.data_dir)
library = resources.library()
target = Target(settings.project, settings.location)


def model_name(model_id: str) -> str:
    try:
        return catalog.get(model_id).name
    except KeyError:
        return model_id


def mode_of(spec: GridSpec):
    return store.modes.get(spec.mode_id) if spec.mode_id else None


def request_extras(spec: GridSpec):
    """The response schema and what each cell's run records, for the grid's answer mode."""
    mode = mode_of(spec)
    if mode is None:
        return None, {}
    return response_schema(mode.kind), analysis_extra(mode)


def start_online(lab_id: str, spec: GridSpec, plan: Plan, keys: set[str] | None = None) -> None:
    client = resources.connected_client(settings)
    if client is None:
        return
    schema, extra = request_extras(spec)
    cells = [c for c in plan.runnable if keys is None or c.cell.key in keys]
    launch.run_online(
        store, runs, registry, client, lab_id=lab_id, cells=cells, target=target, owner=owner,
        limiter=QuotaLimiter(max_concurrency=grid_form.concurrency_value(FORM)),
        response_schema=schema, cell_extra=extra,
    )  # fmt: skip


def start_batch(lab_id: str, spec: GridSpec, plan: Plan) -> None:
    clients = resources.lab_clients()
    if clients is None or not settings.bucket:
        st.error("A batch job needs Vertex AI and a bucket (REELSCOPE_BUCKET): set them up.")
        return
    schema, _ = request_extras(spec)
    try:
        count, bucket = len(plan.runnable), settings.bucket
        with st.spinner(f"Writing {count} requests to gs://{bucket} and creating the jobs…"):
            jobs = batch.launch(store, clients, bucket=bucket, lab_id=lab_id, owner=owner,
                                cells=plan.runnable, response_schema=schema)  # fmt: skip
    except (BatchError, StagingError) as problem:
        st.error(str(problem), icon=":material/error:")
        return
    for job in jobs:
        batch.watch(store, clients, job, registry, poll_s=settings.batch_poll_s,
                    app_version=app_version())  # fmt: skip


def define_and_launch() -> None:
    lister = None
    files = resources.storage_client(settings)
    if files is not None:
        lister = lambda text: list_prefix(files, text)  # noqa: E731
    spec = grid_form.show(
        FORM, catalog, today, settings.location, backend=resources.backend(settings),
        items=library.items(), lister=lister,
        modes=store.modes.all(owner),
    )  # fmt: skip
    problems = check_grid(spec)
    for problem in problems:
        st.warning(problem, icon=":material/edit_note:")
    rows = online = batch_plan = None
    ready = False
    backend = resources.backend(settings)
    no_batch = batch_unavailable(backend)
    if not problems:
        rows = row_sources(library, spec.rows, bucket=settings.bucket, files=files_of(backend))
        online = plan_grid(spec, rows, catalog, how=ONLINE, bucket=settings.bucket, today=today,
                           backend=backend)  # fmt: skip
        if no_batch is None:
            batch_plan = plan_grid(spec, rows, catalog, how=BATCH, bucket=settings.bucket,
                                   today=today)  # fmt: skip
        ready = plan_view.show("lab.plan", spec, online, batch_plan, no_batch, backend).ok
    grid_form.concurrency(FORM)
    run_pressed = clicks.pressed("lab.run")
    batch_pressed = clicks.pressed("lab.batch")
    batch_ok = batch_plan is not None and bool(batch_plan.runnable)
    buttons = st.container(horizontal=True)
    buttons.button(
        "Run online", type="primary", key="lab.run", disabled=not ready,
        on_click=clicks.remember, args=("lab.run",), icon=":material/play_arrow:",
    )  # fmt: skip
    buttons.button(
        "Submit as batch job", key="lab.batch", disabled=not (ready and batch_ok),
        on_click=clicks.remember, args=("lab.batch",), icon=":material/schedule_send:",
        help="Vertex AI batch prediction: about half the price, results in minutes to hours."
        if batch_ok else no_batch or "None of these cells can go in a batch job (see above).",
    )  # fmt: skip
    if ready and run_pressed:
        launch_online(spec, online, rows)
    elif ready and batch_pressed and batch_plan is not None:
        launch_batch(spec, batch_plan, rows)
    clicks.handled("lab.run")
    clicks.handled("lab.batch")


def files_of(backend: str) -> FileBook | None:
    """The remembered Files API uploads, on the Gemini Developer API (uploads above the inline
    limit are sent as those files there)."""
    return FileBook(resources.library().db) if backend == BACKEND_GEMINI_API else None


def batch_unavailable(backend: str) -> str | None:
    """Why no batch job can be offered here, or None."""
    if backend != BACKEND_VERTEX:
        return "Batch jobs need Vertex AI (a Google Cloud project): with an API key, run online."
    if not settings.bucket:
        return "A batch job needs a bucket (REELSCOPE_BUCKET) for its requests and results."
    return None


def launch_online(spec: GridSpec, plan: Plan, rows) -> None:
    client = resources.connected_client(settings)  # says what to set up when it cannot
    if client is None:
        return
    _, extra = request_extras(spec)
    lab_id = launch.new_lab(store, spec, plan, rows, owner=owner, cell_extra=extra)
    start_online(lab_id, spec, plan)
    kept.put(CURRENT_KEY, lab_id)


def launch_batch(spec: GridSpec, plan: Plan, rows) -> None:
    if resources.lab_clients() is None:
        st.error("A batch job needs Vertex AI and Cloud Storage: see the sidebar for what to set.")
        return
    _, extra = request_extras(spec)
    lab_id = launch.new_lab(store, spec, plan, rows, owner=owner, cell_extra=extra)
    start_batch(lab_id, spec, plan)
    kept.put(CURRENT_KEY, lab_id)


def kept_labs() -> str | None:
    """The lab shown below: the one just started, or one picked from those kept."""
    labs = {lab.id: lab for lab in store.labs.labs(owner=owner)}
    if not labs:
        return None
    if kept.value(CURRENT_KEY) not in labs:
        kept.put(CURRENT_KEY, next(iter(labs)))
    return st.selectbox(
        "Lab",
        list(labs),
        format_func=lambda i: (  # options are plain text, never Markdown
            f"{labs[i].name} · {labs[i].how} · {labs[i].created_at:%Y-%m-%d %H:%M} UTC"
        ),
        **kept.bind(CURRENT_KEY),
    )


def act(lab: LabRow, grid: OnlineGrid | None, actions: results_view.Actions) -> None:
    if actions.stop:
        in_grid = grid.cells() if grid is not None and not grid.done else {}
        if in_grid:
            grid.stop([key for key in actions.stop if key in in_grid])
        for key, run_id in _cell_runs(lab.id).items():
            if key in actions.stop and key not in in_grid and (run := runs.get(run_id)):
                run.stop()
    if actions.rerun:
        spec = GridSpec.from_record(lab.spec)
        backend = resources.backend(settings)
        rows = row_sources(library, spec.rows, bucket=settings.bucket, files=files_of(backend))
        plan = plan_grid(spec, rows, catalog, how=ONLINE, bucket=settings.bucket, today=today,
                         backend=backend)  # fmt: skip
        refused = [c for c in plan.refused if c.cell.key in actions.rerun]
        if refused:
            st.toast(f"{len(refused)} cells cannot be sent any more: {refused[0].refusal}",
                     icon=":material/block:")  # fmt: skip
        start_online(lab.id, spec, plan, set(actions.rerun))
        st.rerun()


def forget_lab(lab_id: str) -> None:
    """The delete button's callback: runs before the page, so the picker no longer offers it."""
    try:
        store.labs.delete(lab_id, owner=owner)
    except NotYours as refused:
        st.toast(str(refused), icon=":material/block:")
        return
    st.toast("Lab deleted. Its cells are still in History.", icon=":material/delete:")


def _cell_runs(lab_id: str) -> dict[str, str]:
    return {c.key: c.run_id for c in store.labs.cells(lab_id) if c.run_id}


def results(lab_id: str) -> None:
    lab = store.labs.get(lab_id)
    if lab is None:
        return
    jobs = store.labs.jobs(lab.id)
    jobs_view.show("lab.jobs", jobs, registry)
    grid = registry.find(GRID_KIND, lab.id)
    grid = grid if isinstance(grid, OnlineGrid) else None
    live = [grid] if grid is not None and not grid.done else []
    live += [w for j in jobs if (w := registry.find(batch.JOB_KIND, j.id)) and not w.done]
    delete_lab.show("lab.delete", lab, live=bool(live), delete=forget_lab)

    mode = mode_of(GridSpec.from_record(lab.spec))

    def open_on_chapters(kept_run) -> bool:
        return open_kept(kept_run, mode, library, runs, owner)

    def draw() -> None:
        actions = results_view.show("lab.results", store, lab, grid, runs, model_name,
                                    open_on_chapters if mode else None)  # fmt: skip
        act(lab, grid, actions)

    follow.view(live[0] if live else None, draw)  # one fragment, running or not: no lost click


def lab_of_task(task_id: str) -> str | None:
    task = registry.get(task_id)
    if isinstance(task, OnlineGrid):
        return task.key
    if isinstance(task, batch.BatchWatch):
        job = store.labs.job(task.key or "")
        return job.lab_id if job else None
    return None


st.title("Lab")
st.caption(
    "Test a prompt the way a team decides: in up to four wordings, on many videos, with up to "
    "four models at once. See what it costs before you send it, run it online or as a batch "
    "job at about half the price, and compare the answers side by side."
)
if store is None:
    st.error("The run history cannot be opened, so labs cannot be kept: see History.")
    st.stop()
resources.resume_lab_jobs()
if opened := running.take_opened("lab"):  # Open in the Running list: that task's lab
    kept.put(CURRENT_KEY, lab_of_task(opened))
has_labs = bool(store.labs.labs(owner=owner, limit=1))
with st.expander("New grid", expanded=not has_labs, icon=":material/grid_on:"):
    define_and_launch()
chosen = kept_labs()
if chosen:
    results(chosen)
