package parser

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types. participle wants negative numbers, EOF being -1.
const (
	tokEOF lexer.TokenType = -(iota + 1)
	tokRawString
	tokString
	tokBacktick
	tokFloat
	tokInt
	tokKeyword
	tokIdent
	tokOperator
	tokBinOp
	tokPrefix
)

var symbols = map[string]lexer.TokenType{
	"EOF": tokEOF, "RawString": tokRawString, "String": tokString, "Backtick": tokBacktick,
	"Float": tokFloat, "Int": tokInt, "Keyword": tokKeyword, "Ident": tokIdent, "Operator": tokOperator,
	"BinOp": tokBinOp, "Prefix": tokPrefix,
}

// keywords are reserved (case-insensitive); a column of that name is written
// in backticks (`Limit`). GROUP, ORDER, BY, ASC and DESC are keywords only
// where the grammar reads GROUP BY or ORDER BY, and names elsewhere
// (see gPrimary): artifacts call columns Group and Order.
var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "ORDER": true, "BY": true,
	"LIMIT": true, "AS": true, "LET": true, "AND": true, "OR": true, "NOT": true, "IN": true,
	"ASC": true, "DESC": true, "EXPLAIN": true, "TRUE": true, "FALSE": true, "NULL": true,
}

// operandKeywords are the keywords that may also be names (gPrimary) and so
// end an operand: `Group - 1` subtracts. BY is left out: in `ORDER BY -x`
// the minus is a prefix.
var operandKeywords = map[string]bool{"GROUP": true, "ORDER": true, "ASC": true, "DESC": true}

// IsKeyword reports whether a word is reserved.
func IsKeyword(word string) bool { return keywords[strings.ToUpper(word)] }

// vqlLexer is the participle lexer definition. Lexing is done up front by
// tokenize (hand-written: the regular-expression lexer cost more than the
// parse itself); participle replays the tokens.
type vqlLexer struct{}

func (vqlLexer) Symbols() map[string]lexer.TokenType { return symbols }

func (vqlLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return vqlLexer{}.LexString(filename, string(b))
}

func (vqlLexer) LexString(filename, text string) (lexer.Lexer, error) {
	toks, err := tokenize(filename, text)
	if err != nil {
		return nil, err
	}
	return &replay{toks: toks}, nil
}

type replay struct {
	toks []lexer.Token
	i    int
}

func (r *replay) Next() (lexer.Token, error) {
	t := r.toks[r.i]
	if r.i < len(r.toks)-1 {
		r.i++
	}
	return t, nil
}

// lexError is a problem found while splitting the text into tokens.
type lexError struct {
	pos        lexer.Position
	msg        string
	incomplete bool
}

func (e *lexError) Error() string { return e.pos.String() + ": " + e.msg }

// tokenize splits text into tokens, dropping white space and comments
// (`-- …`, `// …`, `/* … */`). Numbers carry no sign: `1-2` is three tokens
// and unary minus is the grammar's business. It also refuses brackets
// nested more than MaxDepth deep, before the recursive parser sees them.
func tokenize(filename, text string) ([]lexer.Token, error) {
	toks := make([]lexer.Token, 0, len(text)/4+1)
	pos := lexer.Position{Filename: filename, Line: 1, Column: 1}
	// advance moves pos over n bytes of text starting at pos.Offset.
	advance := func(n int) {
		seg := text[pos.Offset : pos.Offset+n]
		for {
			nl := strings.IndexByte(seg, '\n')
			if nl < 0 {
				break
			}
			pos.Line++
			pos.Column = 1
			seg = seg[nl+1:]
		}
		pos.Column += utf8.RuneCountInString(seg)
		pos.Offset += n
	}
	emit := func(typ lexer.TokenType, n int) {
		toks = append(toks, lexer.Token{Type: typ, Value: text[pos.Offset : pos.Offset+n], Pos: pos})
		advance(n)
	}
	depth := 0
	for pos.Offset < len(text) {
		rest := text[pos.Offset:]
		c := rest[0]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			advance(1)
		case strings.HasPrefix(rest, "--") || strings.HasPrefix(rest, "//"):
			n := strings.IndexByte(rest, '\n')
			if n < 0 {
				n = len(rest)
			}
			advance(n)
		case strings.HasPrefix(rest, "/*"):
			n := strings.Index(rest[2:], "*/")
			if n < 0 {
				return nil, &lexError{pos: pos, msg: "unterminated comment", incomplete: true}
			}
			advance(n + 4)
		case strings.HasPrefix(rest, "'''"):
			n := strings.Index(rest[3:], "'''")
			if n < 0 {
				return nil, &lexError{pos: pos, msg: "unterminated raw string", incomplete: true}
			}
			emit(tokRawString, n+6)
		case c == '\'' || c == '"':
			n := quoted(rest, c)
			if n < 0 {
				return nil, &lexError{pos: pos, msg: "unterminated string", incomplete: true}
			}
			emit(tokString, n)
		case c == '`':
			n := strings.IndexByte(rest[1:], '`')
			if n < 0 {
				return nil, &lexError{pos: pos, msg: "unterminated quoted identifier", incomplete: true}
			}
			emit(tokBacktick, n+2)
		case isDigit(c) || (c == '.' && len(rest) > 1 && isDigit(rest[1])):
			typ, n := number(rest)
			emit(typ, n)
		case isIdentStart(c):
			n := 1
			for n < len(rest) && isIdentPart(rest[n]) {
				n++
			}
			typ := tokIdent
			if word := strings.ToUpper(rest[:n]); word == "NOT" {
				typ = tokPrefix
			} else if binaryWords[word] {
				typ = tokBinOp
			} else if keywords[word] {
				typ = tokKeyword
			}
			emit(typ, n)
		default:
			n := operator(rest)
			if n == 0 {
				r, _ := utf8.DecodeRuneInString(rest)
				return nil, &lexError{pos: pos, msg: fmt.Sprintf("unexpected character %q", r)}
			}
			switch c {
			case '(', '[', '{':
				if depth++; depth > MaxDepth {
					return nil, &lexError{pos: pos, msg: fmt.Sprintf("brackets nested more than %d deep", MaxDepth)}
				}
			case ')', ']', '}':
				depth--
			}
			if (c == '-' || c == '+') && n == 1 && !endsOperand(toks) {
				emit(tokPrefix, n)
			} else if binarySymbols[rest[:n]] {
				emit(tokBinOp, n)
			} else {
				emit(tokOperator, n)
			}
		}
	}
	toks = append(toks, lexer.Token{Type: tokEOF, Pos: pos})
	return toks, nil
}

// endsOperand reports whether the last token can end an operand, in which
// case a following - or + is binary (`x -1` is subtraction); otherwise it is
// a prefix (`1 + -2`, `(-x)`).
func endsOperand(toks []lexer.Token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	switch t.Type {
	case tokIdent, tokInt, tokFloat, tokString, tokRawString, tokBacktick:
		return true
	case tokKeyword:
		switch strings.ToUpper(t.Value) {
		case "TRUE", "FALSE", "NULL":
			return true
		}
		return operandKeywords[strings.ToUpper(t.Value)]
	case tokOperator:
		return t.Value == ")" || t.Value == "]" || t.Value == "}"
	}
	return false
}

// quoted returns the length of the quoted string at the start of s
// (including both quotes), or -1 when it is not closed.
func quoted(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i + 1
		}
	}
	return -1
}

func number(s string) (lexer.TokenType, int) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		n := 3
		for n < len(s) && isHex(s[n]) {
			n++
		}
		return tokInt, n
	}
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	typ := tokInt
	if n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]) {
		typ = tokFloat
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && isDigit(s[m]) {
			for m < len(s) && isDigit(s[m]) {
				m++
			}
			return tokFloat, m
		}
	}
	return typ, n
}

// Binary operators get a token type of their own so that the grammar
// matches "any binary operator" with one token test instead of trying each
// spelling in turn. `=`, `<=`, `-` and `+` are BinOp tokens too; the
// grammar's literals ("=" after an argument name, "-" as a prefix) match
// them by value.
var (
	binaryWords   = map[string]bool{"AND": true, "OR": true, "IN": true}
	binarySymbols = map[string]bool{
		"=": true, "!=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true, "=~": true,
		"+": true, "-": true, "*": true, "/": true, "%": true, "&&": true, "||": true,
	}
)

var twoCharOps = []string{"<=", ">=", "!=", "<>", "=~", "||", "&&"}

func operator(s string) int {
	for _, op := range twoCharOps {
		if strings.HasPrefix(s, op) {
			return 2
		}
	}
	if strings.IndexByte("-+*/%=<>(){}[],.:;", s[0]) >= 0 {
		return 1
	}
	return 0
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }

// EndsWithSemicolon reports whether the last token of text is `;` (not one
// inside a string or comment): the REPL's sign that a statement typed over
// several lines is finished.
func EndsWithSemicolon(text string) bool {
	toks, err := tokenize("", text)
	if err != nil || len(toks) < 2 {
		return false
	}
	last := toks[len(toks)-2]
	return last.Type == tokOperator && last.Value == ";"
}
