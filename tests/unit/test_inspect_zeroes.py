"""inspect -f sees a container as the docker CLI's typed struct does: fields the
JSON leaves out (omitempty) are their Go zero values (measured on Docker 20.10)."""
from minidocker.cli.container_commands import typed_zeroes
from minidocker.cli.template.executor import render

CONTAINER = {"Id": "x", "State": {"Status": "running"}, "Config": {"Image": "busybox"},
             "HostConfig": {"NetworkMode": "default"}}


def test_left_out_fields_are_zero_values():
    got = render("{{json .HostConfig.Tmpfs}}|{{.HostConfig.Tmpfs}}|{{json .HostConfig.Mounts}}|"
                 "{{.Config.Healthcheck}}|{{.State.Health}}|{{json .State.Health}}|{{if .State.Health}}y{{end}}",
                 typed_zeroes(CONTAINER))
    assert got == "null|map[]|null|<nil>|<nil>|null|"


def test_present_fields_win_and_others_are_untouched():
    c = dict(CONTAINER, HostConfig={"Tmpfs": {"/t": "size=1m"}})
    assert render("{{json .HostConfig.Tmpfs}}", typed_zeroes(c)) == '{"/t":"size=1m"}'
    net = {"Name": "bridge", "Driver": "bridge"}
    assert typed_zeroes(net) is net
