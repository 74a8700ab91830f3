"""run/update's resource flags parsed as the docker 20.10 CLI parses them, and
`stats` rows formatted as it prints them (values measured on Docker 20.10)."""
import pytest

from minidocker.cli import resource_commands as rc


def test_sizes_are_binary_as_go_units_ram_in_bytes():
    assert rc.ram_in_bytes("64m") == 64 * 1024 * 1024
    assert rc.ram_in_bytes("6MB") == 6 * 1024 * 1024
    assert rc.ram_in_bytes("1.5g") == 1536 * 1024 * 1024
    assert rc.ram_in_bytes("4194304") == 4194304
    assert rc.swap_bytes("-1") == -1
    with pytest.raises(ValueError, match="invalid size: 'abc'"):
        rc.ram_in_bytes("abc")


def test_cpus_and_integers():
    assert rc.nano_cpus("0.5") == 500_000_000
    assert rc.nano_cpus("1.25") == 1_250_000_000
    with pytest.raises(ValueError, match="failed to parse x as a rational number"):
        rc.nano_cpus("x")
    with pytest.raises(ValueError, match='strconv.ParseInt: parsing "x": invalid syntax'):
        rc.int64("x")


def test_restart_policy_parse():
    assert rc.restart_policy("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert rc.restart_policy("always") == {"Name": "always", "MaximumRetryCount": 0}
    with pytest.raises(ValueError, match="^invalid restart policy format$"):
        rc.restart_policy("a:b:c")
    with pytest.raises(ValueError, match="^maximum retry count must be an integer$"):
        rc.restart_policy("on-failure:x")


def test_stats_row_as_docker_prints_it():
    # a Docker 20.10 record (cgroup v1): `docker stats` showed
    # d4ed500b56e8   hcg-e   0.00%   584KiB / 64MiB   0.89%   736B / 0B   0B / 0B   1
    rec = {"cpu_stats": {"cpu_usage": {"total_usage": 22677039}, "system_cpu_usage": 20606270000000,
                         "online_cpus": 2},
           "precpu_stats": {"cpu_usage": {"total_usage": 22677039}, "system_cpu_usage": 20604260000000},
           "memory_stats": {"usage": 647168, "stats": {"total_inactive_file": 49152}, "limit": 67108864},
           "networks": {"eth0": {"rx_bytes": 736, "tx_bytes": 0}},
           "blkio_stats": {"io_service_bytes_recursive": []}, "pids_stats": {"current": 1}}
    row = rc.stats_row(rec, "d4ed500b56e86fa0f75241ff3adad70a10ec49660f555440ef11066914192e38", "hcg-e")
    assert row == ["d4ed500b56e8", "hcg-e", "0.00%", "584KiB / 64MiB", "0.89%", "736B / 0B", "0B / 0B", "1"]
    stopped = {"read": "0001-01-01T00:00:00Z", "pids_stats": {}, "memory_stats": {}, "cpu_stats": {},
               "precpu_stats": {}, "blkio_stats": {}}
    assert rc.stats_row(stopped, "bb4222ab783e", "hcg-s")[2:] == ["0.00%", "0B / 0B", "0.00%", "0B / 0B",
                                                                 "0B / 0B", "0"]


def test_stats_table_columns():
    out = rc._table([["d4ed500b56e8", "hcg-e", "0.00%", "584KiB / 64MiB", "0.89%", "736B / 0B", "0B / 0B", "1"]])
    assert out == ("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O     BLOCK I/O   PIDS\n"
                   "d4ed500b56e8   hcg-e     0.00%     584KiB / 64MiB      0.89%     736B / 0B   0B / 0B     1\n")
