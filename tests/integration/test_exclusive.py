"""``Registry.exclusive``: one holder at a time across processes, on SQLite and PostgreSQL, released when its
holder dies; and what it is for, the publishers of one centre's CRLs taking turns (issue 17: a CI run where three
processes published side by side lost one publisher eight races in a row)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

from api.wiring import Services
from registry.db import Database


def _hold(url: str, name: str, ready, released, seconds: float) -> None:  # noqa: ANN001 - Event, Value
    """In a child: take the lock, say so, keep it ``seconds`` (0: until killed), write down when it let go."""
    database = Database(url)
    with database.exclusive(name):
        ready.set()
        time.sleep(seconds or 3600)
        released.value = time.monotonic()   # CLOCK_MONOTONIC: one clock for every process


def _child(url: str, name: str, seconds: float):  # noqa: ANN202 - (process, when it let go)
    context = multiprocessing.get_context("fork")
    ready, released = context.Event(), context.Value("d", 0.0)
    process = context.Process(target=_hold, args=(url, name, ready, released, seconds))
    process.start()
    assert ready.wait(30), "the child never took the lock"
    return process, released


def test_one_holder_at_a_time_across_processes_and_the_lock_is_freed_when_its_holder_dies(database_url) -> None:
    database = Database(database_url)
    try:
        holder, released = _child(database_url, "crl-publication:national", 0.6)
        with database.exclusive("crl-publication:government"):   # another name is another lock
            assert released.value == 0.0
        with database.exclusive("crl-publication:national"):
            taken = time.monotonic()
        holder.join(10)
        assert 0.0 < released.value <= taken   # taken only after the child let go

        killed, _ = _child(database_url, "crl-publication:national", 0)
        os.kill(killed.pid, signal.SIGKILL)
        killed.join(10)
        started = time.monotonic()
        with database.exclusive("crl-publication:national"):   # the dead holder's lock went with it
            assert time.monotonic() - started < 5
        if database.dialect == "sqlite":   # the file an operator sees beside the database, the owner's alone
            lock = Path(database.engine.url.database + ".crl-publication-national.lock")
            assert lock.stat().st_mode & 0o777 == 0o600
    finally:
        database.dispose()


def test_a_holder_that_fails_lets_go_and_threads_of_one_process_take_turns(database_url) -> None:
    """24 threads, more than the connection pool's 15: waiting threads hold no connection, so the holder always
    gets one for its own work (else the pool would run dry and the holder time out)."""
    database = Database(database_url)
    inside, most, errors = [0], [0], []
    guard = threading.Lock()

    def work() -> None:
        try:
            for _ in range(3):
                with database.exclusive("turns"):
                    with guard:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    with database.connect(write=False) as connection:   # the holder's own unit of work
                        connection.exec_driver_sql("SELECT 1")
                    with guard:
                        inside[0] -= 1
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    try:
        try:
            with database.exclusive("turns"):
                raise ValueError("the holder's work failed")
        except ValueError:
            pass
        threads = [threading.Thread(target=work) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == [] and most[0] == 1 and inside[0] == 0
    finally:
        database.dispose()


def test_publishers_of_one_centre_take_turns_and_none_signs_in_vain(services) -> None:
    """ROOT-7 / NAT-8's CRLs from three publishers at once: every draft signed is stored, numbers never shared."""
    others = [Services.build(services.settings) for _ in range(3)]
    drafts: list[int] = []
    errors: list[BaseException] = []
    published: list[int] = []

    def count_drafts(publisher) -> None:  # noqa: ANN001 - a CRLPublisher
        draft = publisher._draft

        def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            drafts.append(1)
            return draft(*args, **kwargs)
        publisher._draft = counted

    def publish(svc: Services) -> None:
        try:
            for _ in range(3):
                published.extend(crl.number for crl in svc.publisher.publish("national"))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    for svc in others:
        count_drafts(svc.publisher)
    threads = [threading.Thread(target=publish, args=(svc,)) for svc in others]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for svc in others:
            svc.close()
    assert errors == []
    assert len(drafts) == 9   # one draft per publication: none lost a race and signed again
    assert len(published) == len(set(published)) == 18
