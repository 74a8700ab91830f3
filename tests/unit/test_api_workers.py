"""API connection threads are kept for the next connection (api/workers.py)."""
import threading

from minidocker.api.workers import Workers


def _served():
    done = []
    cond = threading.Condition()

    def serve(conn):
        if isinstance(conn, threading.Event):
            conn.wait(10)  # held open until the test lets it end
        with cond:
            done.append((conn, threading.get_ident()))
            cond.notify_all()

    def wait(n):
        with cond:
            assert cond.wait_for(lambda: len(done) >= n, 10)
        return done
    return serve, wait


def test_one_after_another_reuse_the_thread_and_close_ends_it():
    serve, wait = _served()
    w = Workers(serve, idle_seconds=60)
    w.submit("a")
    first = wait(1)[0][1]
    while w._idle == 0:  # it goes back to waiting
        threading.Event().wait(0.001)
    before = threading.active_count()
    w.submit("b")
    assert wait(2)[1] == ("b", first) and threading.active_count() == before
    while w._idle == 0:
        threading.Event().wait(0.001)
    w.close()
    for t in threading.enumerate():
        if t.ident == first:
            t.join(10)
            assert not t.is_alive()


def test_concurrent_connections_get_threads_of_their_own_and_few_stay():
    serve, wait = _served()
    w = Workers(serve, idle=1, idle_seconds=60)
    held = [threading.Event() for _ in range(3)]
    for ev in held:
        w.submit(ev)
    for ev in held:
        ev.set()
    done = wait(3)
    assert len({ident for _, ident in done}) == 3
    threads = [t for t in threading.enumerate() if t.ident in {ident for _, ident in done}]
    for _ in range(10000):  # the two not kept end on their own
        if sum(t.is_alive() for t in threads) <= 1:
            break
        threading.Event().wait(0.001)
    assert sum(t.is_alive() for t in threads) == 1 and w._idle == 1  # one kept waiting
    w.close()
    for t in threads:
        t.join(10)
        assert not t.is_alive()


def test_a_thread_kept_waiting_ends_when_idle_too_long():
    serve, wait = _served()
    w = Workers(serve, idle_seconds=0.01)
    w.submit("a")
    ident = wait(1)[0][1]
    for t in threading.enumerate():
        if t.ident == ident:
            t.join(10)
            assert not t.is_alive()
    assert w._idle == 0
    w.submit("b")  # served on a new thread
    assert wait(2)[1][0] == "b"
    w.close()
