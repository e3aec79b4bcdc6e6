package parser

import "github.com/alecthomas/participle/v2/lexer"

// The grammar structs mirror spec/vql.md one level per struct; convert.go
// turns them into the ast package's nodes, which carry no parser tags.

type gProgram struct {
	Statements []*gStatement `";"* ( @@ ";"* )*`
}

type gStatement struct {
	Pos     lexer.Position
	Let     *gLet    `  "LET" @@`
	Explain bool     `| ( @"EXPLAIN"?`
	Select  *gSelect `    @@ )`
}

type gLet struct {
	Pos       lexer.Position
	Name      string    `@(Ident|Backtick)`
	HasParams bool      `( @"("`
	Params    []*gParam `  ( @@ ( "," @@ )* )? ")" )?`
	Op        string    `@("=" | "<=")`
	Select    *gSelect  `( @@`
	Expr      *gComma   `| @@ )`
}

type gParam struct {
	Name    string `@(Ident|Backtick)`
	Default *gAnd  `( "=" @@ )?`
}

type gSelect struct {
	Pos     lexer.Position
	Columns []*gColumn  `"SELECT" @@ ( "," @@ )*`
	From    *gPlugin    `"FROM" @@`
	Where   *gComma     `( "WHERE" @@ )?`
	GroupBy []*gAnd     `( "GROUP" "BY" @@ ( "," @@ )* )?`
	OrderBy []*gOrder   `( "ORDER" "BY" @@ ( "," @@ )* )?`
	Limit   *gLimit     `( "LIMIT" @@ )?`
}

type gLimit struct {
	Pos   lexer.Position
	Value string `@Int`
}

type gColumn struct {
	Pos   lexer.Position
	Star  bool   `(  @"*"`
	Expr  *gAnd  ` | @@ )`
	Alias string `( "AS" @(Ident|Backtick) )?`
}

type gOrder struct {
	Expr *gAnd  `@@`
	Dir  string `@("ASC" | "DESC")?`
}

type gPlugin struct {
	Pos       lexer.Position
	Name      []string `@(Ident|Backtick) ( "." @(Ident|Backtick|Keyword) )*`
	HasParens bool     `( @"("`
	Args      []*gArg  `  ( @@ ( "," @@ )* ","? )? ")" )?`
}

type gArg struct {
	Pos   lexer.Position
	Name  string `@(Ident|Backtick|Keyword) "="`
	Value *gAnd  `@@`
}

// gComma is level 1: `a, b` builds an array.
type gComma struct {
	Pos      lexer.Position
	Head     *gAnd   `@@`
	Tail     []*gAnd `( "," @@ )*`
	Trailing bool    `@","?`
}

type gAnd struct {
	Pos   lexer.Position
	Left  *gOr       `@@`
	Right []*gAndOp  `@@*`
}

type gAndOp struct {
	Pos   lexer.Position
	Op    string `@("AND" | "&&")`
	Right *gOr   `@@`
}

type gOr struct {
	Pos   lexer.Position
	Left  *gNot     `@@`
	Right []*gOrOp  `@@*`
}

type gOrOp struct {
	Pos   lexer.Position
	Op    string `@("OR" | "||")`
	Right *gNot  `@@`
}

type gNot struct {
	Pos lexer.Position
	Not *gNot  `  "NOT" @@`
	Cmp *gCmp  `| @@`
}

type gCmp struct {
	Pos   lexer.Position
	Left  *gAdd     `@@`
	Right []*gCmpOp `@@*`
}

type gCmpOp struct {
	Pos   lexer.Position
	Op    string `@("=~" | "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">" | "IN")`
	Right *gAdd  `@@`
}

type gAdd struct {
	Pos   lexer.Position
	Left  *gMul     `@@`
	Right []*gAddOp `@@*`
}

type gAddOp struct {
	Pos   lexer.Position
	Op    string `@("+" | "-")`
	Right *gMul  `@@`
}

type gMul struct {
	Pos   lexer.Position
	Left  *gUnary   `@@`
	Right []*gMulOp `@@*`
}

type gMulOp struct {
	Pos   lexer.Position
	Op    string  `@("*" | "/" | "%")`
	Right *gUnary `@@`
}

type gUnary struct {
	Pos     lexer.Position
	Op      string    `(  @("-" | "+")`
	X       *gUnary   `   @@`
	Postfix *gPostfix `| @@ )`
}

type gPostfix struct {
	Pos     lexer.Position
	Primary *gPrimary   `@@`
	Ops     []*gPostOp  `@@*`
}

type gPostOp struct {
	Pos    lexer.Position
	Member string `(  "." @(Ident|Backtick|Keyword|Int)`
	Open   bool   ` | @"["`
	Lo     *gAnd  `    @@?`
	Colon  bool   `    @":"?`
	Hi     *gAnd  `    @@? "]" )`
}

type gPrimary struct {
	Pos       lexer.Position
	SubSelect *gSelect `  "{" @@ "}"`
	Paren     *gGroup  `| "(" @@ ")"`
	Bracket   *gGroup  `| "[" @@ "]"`
	Float     *string  `| @Float`
	Int       *string  `| @Int`
	Raw       *string  `| @RawString`
	String    *string  `| @String`
	Keyword   *string  `| @("TRUE" | "FALSE" | "NULL")`
	Call      *gCall   `| @@`
}

// gGroup is the inside of `( … )` or `[ … ]`: empty, or a comma list.
type gGroup struct {
	List *gComma `@@?`
}

type gCall struct {
	Pos      lexer.Position
	Name     string  `@(Ident|Backtick)`
	IsCall   bool    `( @"("`
	Args     []*gArg `  ( @@ ( "," @@ )* ","? )? ")" )?`
}
