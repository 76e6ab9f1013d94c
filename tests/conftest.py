"""Test fixtures: every test runs on SQLite and on PostgreSQL, in a transaction rolled back after.

PostgreSQL tests use a database of their own (created per pytest run, dropped after), so that
several runs on one machine never meet. Set BANSO_TEST_PG_URL to point elsewhere; on CI
(CI=true) a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from banso import migrate
from banso.api.deps import get_session
from banso.app import create_app
from banso.audit.service import Actor
from banso.auth.models import User
from banso.auth.service import UserIn, actor_for, create_token, create_user
from banso.db import make_engine
from banso.settings import Settings, load_settings

PG_ADMIN_URL = os.environ.get(
    "BANSO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ON_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any connection failure means "no PostgreSQL here"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


@dataclass
class Backend:
    name: str
    settings: Settings
    engine: Engine


def _create_pg_database() -> tuple[str, str]:
    name = f"banso_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def fresh_backend(name: str, tmp: Path) -> Iterator[Backend]:
    """An empty database of the given kind (no schema); removed afterwards."""
    if name == "sqlite":
        settings = load_settings(data_dir=str(tmp), database_url=f"sqlite:///{tmp / 'banso.db'}")
        engine = make_engine(settings)
        try:
            yield Backend(name, settings, engine)
        finally:
            engine.dispose()
        return
    reason = _pg_available()
    if reason:
        if ON_CI:
            pytest.fail(f"PostgreSQL is required on CI but unreachable: {reason}")
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    db_name, url = _create_pg_database()
    settings = load_settings(data_dir=str(tmp), database_url=url)
    engine = make_engine(settings)
    try:
        yield Backend(name, settings, engine)
    finally:
        engine.dispose()
        _drop_pg_database(db_name)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """A migrated database per backend, shared by the whole run."""
    tmp = tmp_path_factory.mktemp(request.param)
    with fresh_backend(request.param, tmp) as b:
        migrate.upgrade(b.engine)
        yield b


@pytest.fixture
def session(backend: Backend) -> Iterator[Session]:
    """A session whose every commit is a savepoint inside one transaction rolled back after."""
    connection = backend.engine.connect()
    outer = connection.begin()
    db = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={"currency": backend.settings.default_currency},
    )
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def app(backend: Backend, session: Session) -> Iterator[FastAPI]:
    application = create_app(backend.settings)

    def _test_session() -> Iterator[Session]:
        # What the test set up before the request counts as committed (as it would be for a
        # real server); otherwise a request that fails would roll it back with its own work.
        session.commit()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    application.dependency_overrides[get_session] = _test_session
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


# ------------------------------------------------------------------ people
# alice is an admin, bob a CSM, charlie a viewer (healthchecks-style named users).


@dataclass
class Person:
    user: User
    actor: Actor
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_person(session: Session, email: str, role: str) -> Person:
    system = Actor(label="test")
    user = create_user(session, system, UserIn(email=email, name=email.split("@")[0], role=role))
    _, token = create_token(session, system, user, f"{role} token")
    session.flush()
    return Person(user=user, actor=actor_for(user), token=token)


@pytest.fixture
def alice(session: Session) -> Person:
    return make_person(session, "alice@example.com", "admin")


@pytest.fixture
def bob(session: Session) -> Person:
    return make_person(session, "bob@example.com", "csm")


@pytest.fixture
def charlie(session: Session) -> Person:
    return make_person(session, "charlie@example.com", "viewer")


@pytest.fixture
def actor(alice: Person) -> Actor:
    return alice.actor


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    while its session-wide browser lives, and tests that call asyncio.run() must not meet it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
