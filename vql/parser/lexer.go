package parser

import "github.com/alecthomas/participle/v2/lexer"

// keywords are reserved (case-insensitive); a column of that name is written
// in backticks (`Desc`).
const keywords = `SELECT|FROM|WHERE|GROUP|ORDER|BY|LIMIT|AS|LET|AND|OR|NOT|IN|ASC|DESC|EXPLAIN|TRUE|FALSE|NULL`

// vqlLexer splits VQL text into tokens. Numbers carry no sign: `1-2` is
// three tokens, and unary minus is the grammar's business (vfilter lexes
// `-2` as one token, which makes `1-2` a parse error there).
var vqlLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `(?:--|//)[^\n]*|/\*(?s:.*?)\*/`},
	{Name: "Whitespace", Pattern: `\s+`},
	{Name: "RawString", Pattern: `'''(?s:.*?)'''`},
	{Name: "String", Pattern: `'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"`},
	{Name: "Backtick", Pattern: "`[^`]*`"},
	{Name: "Float", Pattern: `(?:\d+\.\d+|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+`},
	{Name: "Int", Pattern: `0[xX][0-9a-fA-F]+|\d+`},
	{Name: "Keyword", Pattern: `(?i)\b(?:` + keywords + `)\b`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
	{Name: "Operator", Pattern: `<=|>=|!=|<>|=~|\|\||&&|[-+*/%=<>(){}\[\],.:;]`},
})
