"""Unit tests for minidocker.cli.template; expected texts are docker 20.10.24 outputs."""
import pytest

from minidocker.cli.template.executor import render
from minidocker.cli.template.tableformat import render_rows, render_table
from minidocker.cli.template.tabwriter import tabwrite
from minidocker.cli.template.values import Struct, go_json, go_sprintf, go_str
from minidocker.errors import TemplateError

BRIDGE = {
    "Name": "bridge", "Driver": "bridge", "Scope": "local", "EnableIPv6": False, "Internal": False,
    "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": "172.17.0.0/16"}]},
    "Containers": {},
    "Options": {"com.docker.network.bridge.default_bridge": "true",
                "com.docker.network.driver.mtu": "1500"},
    "Labels": {},
}
SELF_NET = {"Name": "self_net", "Driver": "bridge", "Scope": "local", "EnableIPv6": False,
            "Internal": False,
            "IPAM": {"Driver": "default", "Options": {},
                     "Config": [{"Subnet": "172.20.16.0/16", "Gateway": "172.20.16.1"}]}}


@pytest.mark.parametrize("tmpl,out", [
    ("{{.Name}} {{.Driver}} {{.Scope}} {{.EnableIPv6}} {{.Internal}} {{json .IPAM}}",
     'self_net bridge local false false {"Driver":"default","Options":{},'
     '"Config":[{"Subnet":"172.20.16.0/16","Gateway":"172.20.16.1"}]}'),
    ("{{json .IPAM.Config}}", '[{"Subnet":"172.20.16.0/16","Gateway":"172.20.16.1"}]'),
    ("{{.}}", None),
])
def test_transcript_formats(tmpl, out):
    if out is None:
        assert render(tmpl, "x") == "x"
        return
    assert render(tmpl, SELF_NET) == out


@pytest.mark.parametrize("tmpl,out", [
    ('{{range $k, $v := .Options}}{{$k}}={{$v}};{{end}}',
     "com.docker.network.bridge.default_bridge=true;com.docker.network.driver.mtu=1500;"),
    ("{{range .Options}}{{.}},{{end}}", "true,1500,"),
    ("{{range .IPAM.Config}}{{.Subnet}}{{end}}", "172.17.0.0/16"),
    ('{{index .Options "com.docker.network.driver.mtu"}} {{len .Options}} '
     '{{printf "%s-%d" .Name 5}} {{println .Name}}x', "1500 2 bridge-5 bridge\nx"),
    ('{{if .Internal}}yes{{else}}no{{end}} {{if .Containers}}has{{else}}empty{{end}} '
     '{{title .Name}} {{lower "AB"}}', "no empty Bridge ab"),
    ('{{.Name}} {{- " x " -}} {{.Driver}}', "bridge x bridge"),
    ("{{json .Name}} {{.Name | json}} {{json .Internal}} {{json .Containers}}",
     '"bridge" "bridge" false {}'),
    ('{{index .Options "nope"}}|', "|"),
    ('{{join (split "a,b" ",") "-"}} {{range $i, $e := .IPAM.Config}}{{$i}}{{$e.Subnet}}{{end}}',
     "a-b 0172.17.0.0/16"),
    ("{{.Name}} {{$x := .Driver}}{{$x}} {{len .Name}}", "bridge bridge 6"),
    ('{{printf "%s|%5s|%-5s|%d|%q|%v|%t|%x" .Name .Driver .Scope 42 .Name .Internal .Internal 255}}',
     'bridge|bridge|local|42|"bridge"|false|false|ff'),
    ('{{printf "%s %s" .Name}}', "bridge %!s(MISSING)"),
    ('{{print .Name 1 2 "a" "b" .Internal}}', "bridge1 2abfalse"),
    ('{{println}}{{print}}|{{println 1 2 "a"}}', "\n|1 2 a\n"),
    ("{{index .Name 0}}", "98"),
    ('{{ .Name | printf "%s!" }} {{"a\\tb\\u00e9"}} {{title "hello wORLD-x_y"}} '
     '{{pad "ab" 1 2}}| {{truncate "abcdef" 3}}', "bridge! a\tb\u00e9 Hello WORLD-X_y  ab  | abc"),
    ("{{.Options}}", "map[com.docker.network.bridge.default_bridge:true "
                     "com.docker.network.driver.mtu:1500]"),
    ("{{.IPAM.Config}}", "[map[Subnet:172.17.0.0/16]]"),
    ("{{.Labels}} {{.EnableIPv6}} {{.Containers}}", "map[] false map[]"),
    ("{{.Name | upper}}", "BRIDGE"),
])
def test_docker_inspect_outputs(tmpl, out):
    assert render(tmpl, BRIDGE) == out


@pytest.mark.parametrize("tmpl,msg", [
    ("{{.Nope}}", 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'),
    ("{{.IPAM.Nope}}", 'template: :1:7: executing "" at <.IPAM.Nope>: map has no entry for key "Nope"'),
    ("{{range .Nope}}x{{end}}", 'template: :1:8: executing "" at <.Nope>: map has no entry for key "Nope"'),
    ("{{.Name.Foo}}", 'template: :1:7: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type interface {}'),
    ("{{len .Internal}}", 'template: :1:2: executing "" at <len .Internal>: error calling len: len of type bool'),
    ("{{index .IPAM.Config 5}}", 'template: :1:2: executing "" at <index .IPAM.Config 5>: '
                                 'error calling index: index out of range: 5'),
    ("{{range .Name}}x{{end}}", 'template: :1:8: executing "" at <.Name>: range can\'t iterate over bridge'),
    ('{{eq .Name "bridge"}} {{ne .Driver "x"}} {{eq .Name 1}}',
     'template: :1:43: executing "" at <eq .Name 1>: error calling eq: incompatible types for comparison'),
    ("a\n{{.Nope}}", 'template: :2:2: executing "" at <.Nope>: map has no entry for key "Nope"'),
])
def test_execution_errors(tmpl, msg):
    with pytest.raises(TemplateError) as e:
        render(tmpl, BRIDGE)
    assert e.value.message == msg
    assert e.value.cli_message == "template parsing error: " + msg
    assert e.value.parse is False


@pytest.mark.parametrize("tmpl,msg", [
    ("{{", "template: :1: unclosed action"),
    ("{{.Name}", "template: :1: bad character U+007D '}'"),
    ("{{if .Name}}x", "template: :1: unexpected EOF"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{$x}}", 'template: :1: undefined variable "$x"'),
    ("{{foo .Name}}", 'template: :1: function "foo" not defined'),
])
def test_parse_errors(tmpl, msg):
    with pytest.raises(TemplateError) as e:
        render(tmpl, BRIDGE)
    assert e.value.message == msg and e.value.parse is True


def test_missingkey_default_and_struct_type():
    assert render("{{.Nope}}", {}, missingkey="default") == "<no value>"
    # docker prints this for a key missing from a typed map field (IPAM.Options)
    assert render("{{.IPAM.Options.x}}", BRIDGE, missingkey="default") == "<no value>"
    with pytest.raises(TemplateError) as e:
        render("{{.Nope}}", {"Name": "x"}, struct_type="*network.networkContext")
    assert e.value.message == ('template: :1:2: executing "" at <.Nope>: can\'t evaluate field '
                               'Nope in type *network.networkContext')


def test_control_flow():
    d = {"L": ["a", "b"], "E": [], "M": {"b": 2, "a": 1}, "N": None, "T": True, "S": "s"}
    assert render("{{range .L}}[{{.}}]{{end}}", d) == "[a][b]"
    assert render("{{range .E}}x{{else}}empty{{end}}", d) == "empty"
    assert render("{{range $k, $v := .M}}{{$k}}{{$v}}{{end}}", d) == "a1b2"
    assert render("{{range $v := .L}}{{$v}}{{end}}", d) == "ab"
    assert render("{{if .N}}y{{else if .T}}t{{else}}n{{end}}", d) == "t"
    assert render("{{if and .T .S}}{{.S}}{{end}}{{if or .N .E}}x{{else}}z{{end}}", d) == "sz"
    assert render("{{if not .N}}nil{{end}}", d) == "nil"
    assert render("{{with .M}}{{.a}}{{end}}{{with .E}}x{{else}}w{{end}}", d) == "1w"
    assert render("{{$x := 1}}{{range .L}}{{$x = .}}{{end}}{{$x}}", d) == "b"
    assert render("{{range .L}}{{$.S}}{{end}}", d) == "ss"
    assert render("{{.N}} {{json .N}} {{.L | len}}", d) == "<no value> null 2"
    assert render("a  {{- /* comment */ -}}  b", d) == "ab"
    assert render("{{(index .M \"a\")}} {{lt 1 2}} {{ge 1 2}} {{eq .S \"x\" \"s\"}}", d) == "1 true false true"
    assert render("{{`raw\\n`}}", d) == "raw\\n"


def test_printing():
    assert go_str({"a": [1, None, True], "b": {}}) == "map[a:[1 <nil> true] b:map[]]"
    assert go_str(Struct(Subnet="172.17.0.0/16", IPRange="", Gateway="", Aux={})) == "{172.17.0.0/16   map[]}"
    assert go_str(1e6) == "1e+06" and go_str(1.5) == "1.5" and go_str(100000.0) == "100000"
    assert go_json({"b": 1, "a": "<&>", "c": [1.0, None]}) == '{"b":1,"a":"<&>","c":[1,null]}'
    assert go_json("é\u2028\b") == '"é\\u2028\\u0008"'
    assert go_sprintf("%05d|%-4s|%x|%s", [42, "ab", "hi"]) == "00042|ab  |6869|%!s(MISSING)"
    assert go_sprintf("%d", ["x"]) == "%!d(string=x)"
    assert go_sprintf("%s", ["a", 1]) == "a%!(EXTRA int=1)"


ROWS = [{"ID": "b6f3c58e7fad", "Name": "bridge", "Driver": "bridge", "Scope": "local"},
        {"ID": "23d9d7cd7999", "Name": "host", "Driver": "host", "Scope": "local"},
        {"ID": "369de24ba2f8", "Name": "none", "Driver": "null", "Scope": "local"}]
HEADERS = {".ID": "NETWORK ID", ".Name": "NAME", ".Driver": "DRIVER", ".Scope": "SCOPE"}
DEFAULT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"


def test_network_ls_default_table():
    expected = ("NETWORK ID     NAME      DRIVER    SCOPE\n"
                "b6f3c58e7fad   bridge    bridge    local\n"
                "23d9d7cd7999   host      host      local\n"
                "369de24ba2f8   none      null      local\n")
    assert render_rows("", ROWS, HEADERS, DEFAULT) == expected
    assert render_rows("table", ROWS, HEADERS, DEFAULT) == expected


def test_network_ls_formats():
    assert render_rows("table {{.Name}}\\t{{.Driver}}", ROWS, HEADERS, DEFAULT) == (
        "NAME      DRIVER\nbridge    bridge\nhost      host\nnone      null\n")
    assert render_rows("table {{.Name}}", ROWS, HEADERS, DEFAULT) == "NAME\nbridge\nhost\nnone\n"
    assert render_rows("{{.Name}}\\t{{.Driver}}", ROWS, HEADERS, DEFAULT) == (
        "bridge\tbridge\nhost\thost\nnone\tnull\n")
    assert render_rows("{{.Name}} {{.Driver}} {{.Scope}}", ROWS, HEADERS, DEFAULT) == (
        "bridge bridge local\nhost host local\nnone null local\n")
    # docker 20.10 has no "json" keyword: it prints the text per row
    assert render_rows("json", ROWS, HEADERS, DEFAULT) == "json\njson\njson\n"
    assert render_rows("json", ROWS[:1], HEADERS, DEFAULT, json_keyword=True) == (
        '{"ID":"b6f3c58e7fad","Name":"bridge","Driver":"bridge","Scope":"local"}\n')
    assert render_rows("table {{.Name}}", [], HEADERS, DEFAULT) == "NAME\n"
    assert render_rows("{{.Name}}", [], HEADERS, DEFAULT) == ""


def test_table_header_functions_and_errors():
    out = render_table("table {{json .Name}}\t{{upper .Driver}}", ROWS[:1], HEADERS)
    assert out == 'NAME       DRIVER\n"bridge"   BRIDGE\n'
    with pytest.raises(TemplateError) as e:
        render_rows("{{.Nope}}", ROWS, HEADERS, DEFAULT, struct_type="*network.networkContext")
    assert "can't evaluate field Nope in type *network.networkContext" in e.value.message


def test_tabwriter():
    assert tabwrite("a\tbb\tc\n") == "a         bb        c\n"
    assert tabwrite("abcdefghij\tx\n") == "abcdefghij   x\n"
    # blocks: a line with fewer cells ends the column block
    assert tabwrite("a\tb\nlong-cell-here\tc\nx\ny\tz\n") == (
        "a                b\nlong-cell-here   c\nx\ny         z\n")
