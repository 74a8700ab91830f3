"""Container events, as Docker 20.10 emits them (docker-compose waits on `die`
carrying the container's labels; `docker events` shows the whole life)."""
from tests.integration.enginehelp import ex, run


def _actions(engine, cid: str) -> list[str]:
    return [ev["Action"] for ev in engine.events.recent()
            if ev["Type"] == "container" and ev["Actor"]["ID"] == cid]


def test_a_containers_life_in_events(engine):
    c = run(engine, "sleep", "600", name="evt", Labels={"com.example.role": "web"})
    code, _ = ex(engine, c, "true")
    assert code == 0
    engine.ctr.stop(c.id, timeout=1)
    engine.ctr.remove(c.id)
    acts = _actions(engine, c.id)
    execs = [a for a in acts if a.startswith("exec_")]
    assert execs == ["exec_create: true", "exec_start: true", "exec_die"], acts
    life = [a for a in acts if not a.startswith("exec_")]
    # as Docker 20.10: TERM, then (sleep as PID 1 ignores it) KILL after the timeout, each a kill event
    assert life == ["create", "start", "kill", "kill", "die", "stop", "destroy"], acts
    die = next(ev for ev in engine.events.recent() if ev["Action"] == "die" and ev["Actor"]["ID"] == c.id)
    assert die["Actor"]["Attributes"] == {"com.example.role": "web", "image": "busybox", "name": "evt",
                                          "exitCode": "137"}  # sleep as PID 1 ignores TERM
    assert die["status"] == "die" and die["id"] == c.id and die["from"] == "busybox"


def test_kill_and_restart_events(engine):
    c = run(engine, "sleep", "600", name="evk")
    engine.ctr.restart(c.id, timeout=1)
    engine.ctr.kill(c.id, "KILL")
    engine.ctr.remove(c.id)
    acts = _actions(engine, c.id)
    assert acts == ["create", "start", "kill", "kill", "die", "stop", "start", "restart", "kill", "die",
                    "destroy"], acts  # Docker 20.10's, measured with `docker restart -t 1` then `docker kill`
    kills = [ev["Actor"]["Attributes"]["signal"] for ev in engine.events.recent()
             if ev["Action"] == "kill" and ev["Actor"]["ID"] == c.id]
    assert kills == ["15", "9", "9"]
