"""A subset of Go's text/template, as `docker ... --format/-f` uses it.

Pure. Behaviour and error texts follow Go 1.19 text/template with Docker's extra
functions (json, join, split, title, lower, upper, pad, truncate), checked against
docker 20.10.24. The pipeline: lexer -> parser (nodes) -> executor (funcs, values);
tabwriter and tableformat lay out docker's `table` listings.

Errors raise minidocker.errors.TemplateError; `.message` is Go's text, e.g.
  template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"
and `.cli_message` adds docker's "template parsing error: " prefix. docker
prints a newline on stdout before an execution error (`.parse` False); its exit
status is 64 for parse errors of `inspect -f` and 1 otherwise.

Imported lazily: only the commands that render a template pay for it.
"""
