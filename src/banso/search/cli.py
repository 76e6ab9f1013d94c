"""`banso search`: rebuild the search indexes (customers, and written documents)."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from banso.cli_support import console, handles_errors, open_session
from banso.search.documents import reindex as reindex_documents
from banso.search.service import reindex_all

search_app = typer.Typer(help="The search indexes (Japanese-capable).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `search` to the root `banso` app."""
    app.add_typer(search_app, name="search")


@search_app.command("reindex")
@handles_errors
def reindex() -> None:
    """Rebuild the search index of every account and of every written document from scratch.

    Search keeps itself up to date on every change; rebuild after restoring a backup or
    after an upgrade that changes how text is normalised.
    """
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with open_session() as session, Progress(*columns, console=console) as progress:
        task = progress.add_task("Indexing accounts", total=None)
        done = reindex_all(
            session, lambda n, total: progress.update(task, completed=n, total=total)
        )
        documents = progress.add_task("Indexing documents", total=None)
        written = reindex_documents(
            session,
            lambda n, source: progress.update(
                documents, completed=n, description=f"Indexing documents ({source})"
            ),
        )
        progress.update(documents, total=written, completed=written)
    console.print(f"Indexed {done:,} accounts and {written:,} documents.")
