package artifacts

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		text string
		want *Artifact
	}{
		{
			name: "name only: type defaults to CLIENT",
			text: "name: Custom.Collect\n",
			want: &Artifact{Name: "Custom.Collect", Type: TypeClient},
		},
		{
			name: "Velociraptor's format",
			text: `name: Custom.Velo
type: notebook
precondition: SELECT OS FROM info() WHERE OS = 'linux'
export: |
  LET Helper = SELECT 1 AS One FROM scope()
imports:
  - Custom.Other
references:
  - https://example.com/r
aliases: [Custom.Old]
required_permissions: [EXECVE]
implied_permissions: [FILESYSTEM_READ]
impersonate: admin
resources:
  timeout: 600
tools:
  - name: Tool
    url: https://example.com/tool
    serve_locally: true
reports:
  - type: CLIENT
    template: "{{ .Description }}"
parameters:
  - name: Mode
    friendly_name: The mode
    type: choices
    default: Fast
    choices: [Fast, Slow]
  - name: Pattern
    validating_regex: "^[a-z]+$"
  - name: Set
    type: artifactset
    artifact_type: SERVER
sources:
  - name: All Matches
    description: about it
    queries:
      - SELECT * FROM Helper
    notebook:
      - type: vql
        template: SELECT 1 FROM scope()
  - notebook:
      - type: markdown
        template: "# Title"
`,
			want: &Artifact{
				Name: "Custom.Velo", Type: TypeNotebook,
				Precondition:        "SELECT OS FROM info() WHERE OS = 'linux'",
				Export:              "LET Helper = SELECT 1 AS One FROM scope()\n",
				Imports:             []string{"Custom.Other"},
				Reference:           []string{"https://example.com/r"},
				Aliases:             []string{"Custom.Old"},
				RequiredPermissions: []string{"EXECVE"},
				ImpliedPermissions:  []string{"FILESYSTEM_READ"},
				Impersonate:         "admin",
				Resources:           map[string]any{"timeout": 600},
				Tools:               []any{map[string]any{"name": "Tool", "url": "https://example.com/tool", "serve_locally": true}},
				Reports:             []any{map[string]any{"type": "CLIENT", "template": "{{ .Description }}"}},
				Parameters: []Parameter{
					{Name: "Mode", FriendlyName: "The mode", Type: "choices", Default: "Fast", Choices: []string{"Fast", "Slow"}},
					{Name: "Pattern", ValidatingRegex: "^[a-z]+$"},
					{Name: "Set", Type: "artifactset", ArtifactType: "SERVER"},
				},
				Sources: []Source{
					{Name: "All Matches", Description: "about it", Query: "SELECT * FROM Helper",
						Notebook: []any{map[string]any{"type": "vql", "template": "SELECT 1 FROM scope()"}}},
					{Notebook: []any{map[string]any{"type": "markdown", "template": "# Title"}}},
				},
			},
		},
		{
			name: "every field",
			text: `name: Custom.Events.Receive
description: |
  Receives events.
type: SERVER_EVENT
author: Someone
reference:
  - https://example.com/a
  - b
parameters:
  - name: Period
    default: "5"
    description: Seconds between rows
    type: int
  - name: Flag
    default: true
  - name: Ratio
    default: 1.5
  - name: Empty
sources:
  - query: SELECT * FROM clock(period=int(int=Period))
  - name: Second
    precondition: SELECT * FROM scope()
    query: |
      SELECT 1 AS X
      FROM scope()
column_types:
  - name: Time
    type: timestamp
  - plain
`,
			want: &Artifact{
				Name:        "Custom.Events.Receive",
				Description: "Receives events.\n",
				Type:        TypeServerEvent,
				Author:      "Someone",
				Reference:   []string{"https://example.com/a", "b"},
				Parameters: []Parameter{
					{Name: "Period", Default: "5", Description: "Seconds between rows", Type: "int"},
					{Name: "Flag", Default: "true"},
					{Name: "Ratio", Default: "1.5"},
					{Name: "Empty"},
				},
				Sources: []Source{
					{Query: "SELECT * FROM clock(period=int(int=Period))"},
					{Name: "Second", Precondition: "SELECT * FROM scope()", Query: "SELECT 1 AS X\nFROM scope()\n"},
				},
				ColumnTypes: []any{map[string]any{"name": "Time", "type": "timestamp"}, "plain"},
			},
		},
		{
			name: "type in any case",
			text: "name: A\ntype: server_Event\n",
			want: &Artifact{Name: "A", Type: TypeServerEvent},
		},
		{
			name: "empty type is the default",
			text: "name: A\ntype:\n",
			want: &Artifact{Name: "A", Type: TypeClient},
		},
		{
			name: "internal",
			text: "name: Server.Internal.X\ntype: internal\n",
			want: &Artifact{Name: "Server.Internal.X", Type: TypeInternal},
		},
		{
			name: "null lists are empty",
			text: "name: A\nreference:\nparameters: ~\nsources: null\ncolumn_types:\ndescription:\n",
			want: &Artifact{Name: "A", Type: TypeClient},
		},
		{
			name: "flow style",
			text: `{name: A, type: client_event, sources: [{name: S, query: "SELECT * FROM scope()"}]}`,
			want: &Artifact{Name: "A", Type: TypeClientEvent, Sources: []Source{{Name: "S", Query: "SELECT * FROM scope()"}}},
		},
		{
			name: "aliases are followed",
			text: "name: A\nauthor: &who Someone\ndescription: *who\n",
			want: &Artifact{Name: "A", Type: TypeClient, Author: "Someone", Description: "Someone"},
		},
		{
			name: "leading document marker and trailing empty document",
			text: "---\nname: A\n---\n",
			want: &Artifact{Name: "A", Type: TypeClient},
		},
		{
			name: "quoted null is text",
			text: "name: A\nparameters:\n  - name: P\n    default: \"null\"\n",
			want: &Artifact{Name: "A", Type: TypeClient, Parameters: []Parameter{{Name: "P", Default: "null"}}},
		},
		{
			name: "digits and underscores in names",
			text: "name: Custom_1.Events_2.x3\n",
			want: &Artifact{Name: "Custom_1.Events_2.x3", Type: TypeClient},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.text), "custom.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Text != tc.text {
				t.Errorf("Text = %q, want the input", got.Text)
			}
			got.Text, got.nameLine = "", 0
			for i := range got.Sources {
				got.Sources[i].queryAt, got.Sources[i].preconditionAt, got.Sources[i].nameLine = textAt{}, textAt{}, 0
			}
			got.preconditionAt, got.exportAt, got.importsLine = textAt{}, textAt{}, 0
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		text string
		want string
	}{
		{"unknown top-level field", "custom.yaml",
			"name: A\ntype: SERVER_EVENT\ndescription: x\nprecondtion: 1\n",
			`custom.yaml:4: unknown field "precondtion" (did you mean precondition?)`},
		{"unknown top-level field, nothing near", "custom.yaml",
			"name: A\ntype: SERVER_EVENT\ndescription: x\nwhatever: 1\n",
			`custom.yaml:4: unknown field "whatever" (known fields: ` + "name, description, type, author, reference, references, parameters, sources, column_types, precondition, export, imports, tools, reports, required_permissions, implied_permissions, resources, aliases, impersonate" + `)`},
		{"unknown field in a parameter", "custom.yaml",
			"name: A\nparameters:\n  - name: P\n    defualt: 1\n",
			`custom.yaml:4: unknown field "defualt" in parameter (did you mean default?)`},
		{"unknown field in a source", "custom.yaml",
			"name: A\nsources:\n  - query: SELECT * FROM scope()\n    notbook: []\n",
			`custom.yaml:4: unknown field "notbook" in source (did you mean notebook?)`},
		{"unknown field in a parameter, nothing near", "custom.yaml",
			"name: A\nparameters:\n  - name: P\n    colour: red\n",
			`custom.yaml:4: unknown field "colour" in parameter (known fields: name, default, description, type, friendly_name, validating_regex, artifact_type, choices)`},
		{"validating_regex must compile", "custom.yaml",
			"name: A\nparameters:\n  - name: P\n    validating_regex: \"a(\"\n",
			"custom.yaml:4: parameter field \"validating_regex\": error parsing regexp: missing closing ): `a(`"},
		{"a default its type refuses", "custom.yaml",
			"name: A\nparameters:\n  - name: N\n    type: int\n    default: ten\n",
			`custom.yaml:5: parameter N: default: "ten" is not an integer`},
		{"a default not among the choices", "custom.yaml",
			"name: A\nparameters:\n  - name: M\n    type: choices\n    choices: [a, b]\n    default: c\n",
			`custom.yaml:6: parameter M: default: "c" is not one of the choices (a, b)`},
		{"a source with neither query nor notebook", "custom.yaml",
			"name: A\nsources:\n  - name: S\n    description: nothing to run\n",
			`custom.yaml:3: missing required field "query" in source`},
		{"merge keys are not fields", "custom.yaml",
			"name: A\n<<: {author: x}\n",
			`custom.yaml:2: unknown field "<<" (known fields: name, description, type, author, reference, references, parameters, sources, column_types, precondition, export, imports, tools, reports, required_permissions, implied_permissions, resources, aliases, impersonate)`},
		{"misspelt required permission", "custom.yaml",
			"name: A\nrequired_permissions:\n  - EXECV\n",
			`custom.yaml:3: required_permissions: unknown permission "EXECV" (did you mean EXECVE?)`},
		{"unknown implied permission", "custom.yaml",
			"name: A\nimplied_permissions: [NETWORK, ROOT]\n",
			`custom.yaml:2: implied_permissions: unknown permission "ROOT"`},
		{"field given twice", "custom.yaml",
			"name: A\nauthor: x\nname: B\n",
			`custom.yaml:3: field "name" given twice (first at line 1)`},
		{"bad type", "custom.yaml",
			"name: A\ntype: server_evnt\n",
			`custom.yaml:2: invalid type "server_evnt" (allowed: CLIENT, SERVER, CLIENT_EVENT, SERVER_EVENT, INTERNAL, NOTEBOOK, in any case)`},
		{"type is not text", "custom.yaml",
			"name: A\ntype: [SERVER_EVENT]\n",
			`custom.yaml:2: field "type" must be text, not a list`},
		{"missing name", "custom.yaml",
			"\ndescription: x\n",
			`custom.yaml:2: missing required field "name"`},
		{"empty name", "custom.yaml",
			"name: ''\n",
			`custom.yaml:1: the artifact name is empty`},
		{"bad name", "custom.yaml",
			"name: Custom..Events\n",
			`custom.yaml:1: invalid artifact name "Custom..Events": expected dot-separated parts of letters, digits and underscores, like Custom.Events.Receive`},
		{"name with a slash", "custom.yaml",
			"name: Custom/Events\n",
			`custom.yaml:1: invalid artifact name "Custom/Events": expected dot-separated parts of letters, digits and underscores, like Custom.Events.Receive`},
		{"name is a mapping", "custom.yaml",
			"name:\n  a: b\n",
			`custom.yaml:2: field "name" must be text, not a mapping`},
		{"reference is not a list", "custom.yaml",
			"name: A\nreference: https://example.com\n",
			`custom.yaml:2: field "reference" must be a list, not text`},
		{"reference item is a list", "custom.yaml",
			"name: A\nreference:\n  - [a]\n",
			`custom.yaml:3: each item of "reference" must be text, not a list`},
		{"parameters is a mapping", "custom.yaml",
			"name: A\nparameters:\n  name: P\n",
			`custom.yaml:3: field "parameters" must be a list, not a mapping`},
		{"parameter is text", "custom.yaml",
			"name: A\nparameters:\n  - P\n",
			`custom.yaml:3: each parameter must be a mapping of fields, not text`},
		{"parameter without a name", "custom.yaml",
			"name: A\nparameters:\n  - default: 1\n",
			`custom.yaml:3: missing required field "name" in parameter`},
		{"parameter twice", "custom.yaml",
			"name: A\nparameters:\n  - name: P\n  - name: P\n",
			`custom.yaml:4: parameter "P" defined twice (first at line 3)`},
		{"parameter default is a list", "custom.yaml",
			"name: A\nparameters:\n  - name: P\n    default: [1, 2]\n",
			`custom.yaml:4: parameter field "default" must be text, not a list`},
		{"source without a query", "custom.yaml",
			"name: A\nsources:\n  - name: S\n",
			`custom.yaml:3: missing required field "query" in source`},
		{"source with an empty query", "custom.yaml",
			"name: A\nsources:\n  - query: '  '\n",
			`custom.yaml:3: missing required field "query" in source`},
		{"bad source name", "custom.yaml",
			"name: A\ntype: CLIENT_EVENT\nsources:\n  - name: a b\n    query: SELECT 1 FROM scope()\n",
			`custom.yaml:4: invalid source name "a b": an event artifact's source names a queue (A/a b), so it is dot-separated parts of letters, digits and underscores`},
		{"source twice", "custom.yaml",
			"name: A\nsources:\n  - name: S\n    query: x\n  - name: S\n    query: y\n",
			`custom.yaml:5: source "S" defined twice (first at line 3)`},
		{"column_types is a mapping", "custom.yaml",
			"name: A\ncolumn_types: {a: b}\n",
			`custom.yaml:2: field "column_types" must be a list, not a mapping`},
		{"column_types contains itself", "custom.yaml",
			"name: A\ncolumn_types:\n  - &x [*x]\n",
			`custom.yaml:3: field "column_types": anchor 'x' value contains itself`},
		{"not a mapping", "custom.yaml",
			"- name: A\n",
			`custom.yaml:1: an artifact definition must be a mapping of fields, not a list`},
		{"plain text", "custom.yaml",
			"hello\n",
			`custom.yaml:1: an artifact definition must be a mapping of fields, not text`},
		{"key is a list", "custom.yaml",
			"name: A\n? [a]\n: b\n",
			`custom.yaml:2: field names must be plain text, not a list`},
		{"empty", "custom.yaml",
			"",
			`custom.yaml:1: empty definition: expected a mapping with at least a name field`},
		{"only a comment", "custom.yaml",
			"# nothing\n",
			`custom.yaml:1: empty definition: expected a mapping with at least a name field`},
		{"two documents", "custom.yaml",
			"name: A\n---\nname: B\n",
			`custom.yaml:3: a second YAML document starts here; a definition holds one artifact`},
		{"malformed: unclosed flow list", "custom.yaml",
			"name: A\nreference: [a, b\n",
			`custom.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		{"malformed: bad indentation", "custom.yaml",
			"name: A\ntype: SERVER_EVENT\n  author: x\n",
			`custom.yaml:3: invalid YAML: mapping values are not allowed in this context`},
		{"malformed: mapping values on line 1", "custom.yaml",
			"name: a: b\n",
			`custom.yaml:1: invalid YAML: mapping values are not allowed in this context`},
		{"malformed: tab indentation", "custom.yaml",
			"name: A\nparameters:\n\t- name: P\n",
			`custom.yaml:3: invalid YAML: found character that cannot start any token`},
		{"malformed: control character", "custom.yaml",
			"name: A\n\x01\n",
			`custom.yaml:2: invalid YAML: control characters are not allowed`},
		{"malformed: unknown alias", "custom.yaml",
			"name: A\n\nauthor: *nobody\n",
			`custom.yaml:3: invalid YAML: unknown anchor 'nobody' referenced`},
		{"malformed: unterminated quote", "custom.yaml",
			"name: A\ndescription: \"abc\n\nauthor: x\n",
			`custom.yaml:2: invalid YAML: found unexpected end of stream`},
		{"malformed: sequence then mapping", "custom.yaml",
			"- a\nb: c\n",
			`custom.yaml:2: invalid YAML: did not find expected '-' indicator`},
		{"no file name: run-time text", "",
			"name: A\ntypo: 1\n",
			`line 2: unknown field "typo" (did you mean type?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse([]byte(tc.text), tc.file)
			if err == nil {
				t.Fatalf("no error; got %+v", a)
			}
			if a != nil {
				t.Errorf("an artifact as well as the error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got  %s\n want %s", err, tc.want)
			}
			var de *DefinitionError
			if !errors.As(err, &de) || de.File != tc.file || de.Line == 0 {
				t.Errorf("error %#v is not a *DefinitionError with file %q and a line", err, tc.file)
			}
		})
	}
}

func TestDefinitionErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		err  DefinitionError
		want string
	}{
		{DefinitionError{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{DefinitionError{File: "a.yaml", Msg: "bad"}, "a.yaml: bad"},
		{DefinitionError{Line: 3, Msg: "bad"}, "line 3: bad"},
		{DefinitionError{Msg: "bad"}, "bad"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v: got %q, want %q", tc.err, got, tc.want)
		}
	}
}
