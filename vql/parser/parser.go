// Package parser turns VQL text into an ast.Program. It is built on
// participle/v2: the lexer is in lexer.go, the grammar in grammar.go, and
// convert.go maps the grammar's structs onto ast nodes.
package parser

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/vqlq/vqlq/internal/suggest"
	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/source"
)

// MaxDepth bounds how deeply brackets may nest. The grammar is recursive
// descent, so without a bound a pathological input (10,000 open
// parentheses) would exhaust the stack instead of giving an error.
const MaxDepth = 500

var grammar = participle.MustBuild[gProgram](
	participle.Lexer(vqlLexer{}),
	participle.CaseInsensitive("Keyword", "BinOp"),
	participle.UseLookahead(3),
)

// Parse parses a whole program. file names the text in messages (it may be
// empty). A returned error is a *source.Error.
func Parse(text, file string) (*ast.Program, error) {
	g, err := grammar.ParseString(file, text)
	if err != nil {
		return nil, toSourceError(err, text, file)
	}
	c := converter{text: text, file: file}
	prog := &ast.Program{File: file, Text: text}
	for _, s := range g.Statements {
		stmt, err := c.statement(s)
		if err != nil {
			return nil, err
		}
		prog.Statements = append(prog.Statements, stmt)
	}
	return prog, nil
}

// ParseExpr parses a single expression (as it would appear after WHERE).
func ParseExpr(text string) (ast.Expr, error) {
	prog, err := Parse("SELECT * FROM scope() WHERE "+text, "")
	if err != nil {
		var se *source.Error
		if errors.As(err, &se) && se.Pos.Line == 1 {
			se.Pos.Column -= len("SELECT * FROM scope() WHERE ")
			se.Pos.Offset -= len("SELECT * FROM scope() WHERE ")
			se.Text = text
		}
		return nil, err
	}
	if len(prog.Statements) != 1 {
		return nil, fmt.Errorf("expected one expression")
	}
	return prog.Statements[0].(*ast.SelectStmt).Select.Where, nil
}

func toSourceError(err error, text, file string) error {
	var lerr *lexError
	if errors.As(err, &lerr) {
		return &source.Error{
			File:       file,
			Pos:        source.Pos{Offset: lerr.pos.Offset, Line: lerr.pos.Line, Column: lerr.pos.Column},
			Msg:        lerr.msg,
			Text:       text,
			Incomplete: lerr.incomplete,
		}
	}
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &source.Error{File: file, Pos: source.Pos{Line: 1, Column: 1}, Msg: err.Error(), Text: text}
	}
	pos := perr.Position()
	msg := perr.Message()
	incomplete := false
	var ut *participle.UnexpectedTokenError
	if errors.As(err, &ut) {
		if ut.Unexpected.EOF() {
			incomplete = true
			msg = "unexpected end of input" + expectation(msg)
		} else if hint := keywordHint(text, ut.Unexpected); hint != "" {
			msg = fmt.Sprintf("unexpected token %q%s", ut.Unexpected.Value, hint)
		} else {
			msg = fmt.Sprintf("unexpected token %q%s", ut.Unexpected.Value, expectation(msg))
		}
	} else if strings.Contains(msg, "unexpected token \"<EOF>\"") {
		incomplete = true
	}
	if !incomplete {
		incomplete = endsEarly(text, pos.Offset)
	}
	return &source.Error{
		File:       file,
		Pos:        source.Pos{Offset: pos.Offset, Line: pos.Line, Column: pos.Column},
		Msg:        msg,
		Text:       text,
		Incomplete: incomplete,
	}
}

// endsEarly reports whether a parse error at offset only means the text
// stopped too soon: the error is at the last token and that token asks for
// more (a comma, an operator, an open bracket, WHERE…), or a bracket is
// still open. participle backtracks over a partial `, <column>` and blames
// the comma, so "the error is at the end of input" is not enough.
func endsEarly(text string, offset int) bool {
	toks, err := tokenize("", text)
	if err != nil || len(toks) < 2 {
		return false
	}
	depth := 0
	for _, t := range toks {
		switch t.Value {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		}
	}
	last := toks[len(toks)-2] // before EOF
	if offset < last.Pos.Offset {
		return false
	}
	if depth > 0 {
		return true
	}
	switch last.Type {
	case tokBinOp, tokPrefix:
		return true
	case tokOperator:
		return last.Value == "," || last.Value == "." || last.Value == ":"
	case tokKeyword:
		switch strings.ToUpper(last.Value) {
		case "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "LIMIT", "AS", "LET", "EXPLAIN":
			return true
		}
	}
	return false
}

// keywordHint is " (did you mean WHERE?)" for a name the grammar did not
// expect that is a misspelt keyword (WHER, SELEC, ORDR). A keyword is
// offered only when it is a small slip away and the text, with it in the
// name's place, parses past that point: `WHERE a FORM` gets no FROM. The
// hint replaces participle's first expectation, which for a misspelt
// keyword is often not the one meant.
func keywordHint(text string, t lexer.Token) string {
	if t.Type != tokIdent {
		return ""
	}
	for d := 1; d <= suggest.MaxDistance(t.Value); d++ {
		for _, k := range clauseKeywords {
			if suggest.Distance(strings.ToUpper(t.Value), k) != d {
				continue
			}
			fixed := text[:t.Pos.Offset] + k + text[t.Pos.Offset+len(t.Value):]
			_, err := grammar.ParseString("", fixed)
			var perr participle.Error
			if err == nil || (errors.As(err, &perr) && perr.Position().Offset >= t.Pos.Offset+len(k)) {
				return " (did you mean " + k + "?)"
			}
		}
	}
	return ""
}

// clauseKeywords are the keywords a misspelt word is compared with:
// every keyword but the values TRUE, FALSE and NULL (a name is accepted
// where a value may come), sorted so that a tie is settled the same way
// every time.
var clauseKeywords = func() []string {
	var out []string
	for k := range keywords {
		if k != "TRUE" && k != "FALSE" && k != "NULL" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}()

// expectation turns participle's "(expected …)" grammar dump into what a
// user can act on: the first thing the grammar wanted, as a keyword or a
// plain description (`(expected FROM)`, `(expected an expression)`).
func expectation(msg string) string {
	i := strings.Index(msg, "(expected ")
	if i < 0 {
		return ""
	}
	inner := strings.TrimSuffix(msg[i+len("(expected "):], ")")
	first := inner
	if j := strings.IndexAny(inner, " |"); j > 0 {
		first = inner[:j]
	}
	first = strings.Trim(first, "()")
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		return " (expected " + first[1:len(first)-1] + ")"
	}
	if d, ok := nodeNames[first]; ok {
		return " (expected " + d + ")"
	}
	return ""
}

// nodeNames describes grammar structs (participle names them after the Go
// type) in words.
var nodeNames = map[string]string{
	"GComma": "an expression", "GAnd": "an expression", "GOr": "an expression",
	"GNot": "an expression", "GCmp": "an expression", "GAdd": "an expression",
	"GMul": "an expression", "GUnary": "an expression", "GPostfix": "an expression",
	"GPrimary": "an expression", "GPlugin": "a plugin name", "GSelect": "SELECT",
	"GColumn": "a column", "GArg": "an argument name=value", "GParam": "a parameter name",
	"GOrder": "an expression", "GLimit": "a number", "GLet": "a name", "GCall": "a name",
	"GStatement": "SELECT or LET", "Int": "a number", "Ident": "a name",
}

func pos(p lexer.Position) source.Pos {
	return source.Pos{Offset: p.Offset, Line: p.Line, Column: p.Column}
}

// Redacted parses a query and returns its canonical text with the values of
// secret-looking arguments hidden (ast.Redacted): the text to show or log
// for a query whose text may hold a password or an Authorization header.
// Text that does not parse is not shown at all, since what in it is a
// secret cannot be told.
func Redacted(text string) string {
	prog, err := Parse(text, "")
	if err != nil {
		return "(query text hidden: it does not parse)"
	}
	return ast.Redacted(prog)
}
