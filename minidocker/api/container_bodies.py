"""The bodies of Docker's container and exec requests as dockerd's Go structs
(schema.py decodes them): runconfig.ContainerConfigWrapper for
`POST /containers/create` (container.Config at its top level, HostConfig,
NetworkingConfig), types.ExecConfig and types.ExecStartCheck.

Only the types are checked here (Go's messages: a wrong type never reaches the
engine); the engine reads the body itself (create_spec.py, exec_verbs.py).
"""
from minidocker.api.routes_networks import ENDPOINT
from minidocker.api.schema import ListOf, MapOf, Struct

STRINGS = ListOf("string")
STRING_MAP = MapOf("string")
EMPTY = Struct("", "struct {}", {})

HEALTH = Struct("HealthConfig", "*container.HealthConfig", {
    "Test": STRINGS, "Interval": "int64", "Timeout": "int64", "StartPeriod": "int64", "Retries": "int"})
PORT_BINDING = Struct("PortBinding", "nat.PortBinding", {"HostIp": "string", "HostPort": "string"})
HOST_CONFIG = Struct("HostConfig", "container.HostConfig", {
    "Binds": STRINGS, "ContainerIDFile": "string",
    "LogConfig": Struct("LogConfig", "container.LogConfig", {"Type": "string", "Config": STRING_MAP}),
    "NetworkMode": "string", "PortBindings": MapOf(ListOf(PORT_BINDING), "nat.PortMap"),
    "RestartPolicy": Struct("RestartPolicy", "container.RestartPolicy",
                            {"Name": "string", "MaximumRetryCount": "int"}),
    "AutoRemove": "bool", "VolumeDriver": "string", "VolumesFrom": STRINGS,
    "CapAdd": "strslice", "CapDrop": "strslice", "CgroupnsMode": "string",
    "Dns": STRINGS, "DnsOptions": STRINGS, "DnsSearch": STRINGS, "ExtraHosts": STRINGS, "GroupAdd": STRINGS,
    "IpcMode": "string", "Cgroup": "string", "Links": STRINGS, "OomScoreAdj": "int", "PidMode": "string",
    "Privileged": "bool", "PublishAllPorts": "bool", "ReadonlyRootfs": "bool", "SecurityOpt": STRINGS,
    "StorageOpt": STRING_MAP, "Tmpfs": STRING_MAP, "UTSMode": "string", "UsernsMode": "string",
    "ShmSize": "int64", "Sysctls": STRING_MAP, "Runtime": "string", "Isolation": "string",
    "MaskedPaths": STRINGS, "ReadonlyPaths": STRINGS, "Init": "bool"})
NETWORKING = Struct("NetworkingConfig", "network.NetworkingConfig", {"EndpointsConfig": MapOf(ENDPOINT)})
CREATE = Struct("ContainerConfigWrapper", "runconfig.ContainerConfigWrapper", {
    "Hostname": "string", "Domainname": "string", "User": "string", "AttachStdin": "bool",
    "AttachStdout": "bool", "AttachStderr": "bool", "ExposedPorts": MapOf(EMPTY, "nat.PortSet"),
    "Tty": "bool", "OpenStdin": "bool", "StdinOnce": "bool", "Env": STRINGS, "Cmd": "strslice",
    "Healthcheck": HEALTH, "ArgsEscaped": "bool", "Image": "string", "Volumes": MapOf(EMPTY),
    "WorkingDir": "string", "Entrypoint": "strslice", "NetworkDisabled": "bool", "MacAddress": "string",
    "OnBuild": STRINGS, "Labels": STRING_MAP, "StopSignal": "string", "StopTimeout": "int",
    "Shell": "strslice", "HostConfig": HOST_CONFIG, "NetworkingConfig": NETWORKING})

EXEC = Struct("ExecConfig", "types.ExecConfig", {
    "User": "string", "Privileged": "bool", "Tty": "bool", "AttachStdin": "bool", "AttachStderr": "bool",
    "AttachStdout": "bool", "Detach": "bool", "DetachKeys": "string", "Env": STRINGS, "WorkingDir": "string",
    "Cmd": STRINGS})
EXEC_START = Struct("ExecStartCheck", "types.ExecStartCheck", {"Detach": "bool", "Tty": "bool"})
