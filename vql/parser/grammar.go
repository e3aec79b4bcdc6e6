package parser

import "github.com/alecthomas/participle/v2/lexer"

// The grammar structs mirror spec/vql.md one level per struct; convert.go
// turns them into the ast package's nodes, which carry no parser tags.

type gProgram struct {
	Statements []*gStatement `parser:"\";\"* ( @@ \";\"* )*"`
}

type gStatement struct {
	Pos     lexer.Position
	Let     *gLet    `parser:"  \"LET\" @@"`
	Explain bool     `parser:"| ( @\"EXPLAIN\"?"`
	Select  *gSelect `parser:"    @@ )"`
}

type gLet struct {
	Pos       lexer.Position
	Name      string    `parser:"@(Ident|Backtick)"`
	HasParams bool      `parser:"( @\"(\""`
	Params    []*gParam `parser:"  ( @@ ( \",\" @@ )* )? \")\" )?"`
	Op        string    `parser:"@(\"=\" | \"<=\")"`
	Select    *gSelect  `parser:"( @@"`
	Expr      *gComma   `parser:"| @@ )"`
}

type gParam struct {
	Name    string `parser:"@(Ident|Backtick)"`
	Default *gAnd  `parser:"( \"=\" @@ )?"`
}

type gSelect struct {
	Pos     lexer.Position
	Columns []*gColumn `parser:"\"SELECT\" @@ ( \",\" @@ )*"`
	From    *gPlugin   `parser:"\"FROM\" @@"`
	Where   *gComma    `parser:"( \"WHERE\" @@ )?"`
	GroupBy []*gAnd    `parser:"( \"GROUP\" \"BY\" @@ ( \",\" @@ )* )?"`
	OrderBy []*gOrder  `parser:"( \"ORDER\" \"BY\" @@ ( \",\" @@ )* )?"`
	Limit   *gLimit    `parser:"( \"LIMIT\" @@ )?"`
}

type gLimit struct {
	Pos   lexer.Position
	Value string `parser:"@Int"`
}

type gColumn struct {
	Pos   lexer.Position
	Star  bool   `parser:"(  @\"*\""`
	Expr  *gAnd  `parser:" | @@ )"`
	Alias string `parser:"( \"AS\" @(Ident|Backtick) )?"`
}

type gOrder struct {
	Expr *gAnd  `parser:"@@"`
	Dir  string `parser:"@(\"ASC\" | \"DESC\")?"`
}

type gPlugin struct {
	Pos       lexer.Position
	Name      []string `parser:"@(Ident|Backtick) ( \".\" @(Ident|Backtick|Keyword) )*"`
	HasParens bool     `parser:"( @\"(\""`
	Args      []*gArg  `parser:"  ( @@ ( \",\" @@ )* \",\"? )? \")\" )?"`
}

type gArg struct {
	Pos   lexer.Position
	Name  string `parser:"@(Ident|Backtick|Keyword) \"=\""`
	Value *gAnd  `parser:"@@"`
}

// gComma is level 1: `parser:"a, b"` builds an array.
type gComma struct {
	Pos      lexer.Position
	Head     *gAnd   `parser:"@@"`
	Tail     []*gAnd `parser:"( \",\" @@ )*"`
	Trailing bool    `parser:"@\",\"?"`
}

type gAnd struct {
	Pos   lexer.Position
	Left  *gOr      `parser:"@@"`
	Right []*gAndOp `parser:"@@*"`
}

type gAndOp struct {
	Pos   lexer.Position
	Op    string `parser:"@(\"AND\" | \"&&\")"`
	Right *gOr   `parser:"@@"`
}

type gOr struct {
	Pos   lexer.Position
	Left  *gNot    `parser:"@@"`
	Right []*gOrOp `parser:"@@*"`
}

type gOrOp struct {
	Pos   lexer.Position
	Op    string `parser:"@(\"OR\" | \"||\")"`
	Right *gNot  `parser:"@@"`
}

type gNot struct {
	Pos lexer.Position
	Not *gNot `parser:"  \"NOT\" @@"`
	Cmp *gCmp `parser:"| @@"`
}

type gCmp struct {
	Pos   lexer.Position
	Left  *gAdd     `parser:"@@"`
	Right []*gCmpOp `parser:"@@*"`
}

type gCmpOp struct {
	Pos   lexer.Position
	Op    string `parser:"@(\"=~\" | \"=\" | \"!=\" | \"<>\" | \"<=\" | \">=\" | \"<\" | \">\" | \"IN\")"`
	Right *gAdd  `parser:"@@"`
}

type gAdd struct {
	Pos   lexer.Position
	Left  *gMul     `parser:"@@"`
	Right []*gAddOp `parser:"@@*"`
}

type gAddOp struct {
	Pos   lexer.Position
	Op    string `parser:"@(\"+\" | \"-\")"`
	Right *gMul  `parser:"@@"`
}

type gMul struct {
	Pos   lexer.Position
	Left  *gUnary   `parser:"@@"`
	Right []*gMulOp `parser:"@@*"`
}

type gMulOp struct {
	Pos   lexer.Position
	Op    string  `parser:"@(\"*\" | \"/\" | \"%\")"`
	Right *gUnary `parser:"@@"`
}

type gUnary struct {
	Pos     lexer.Position
	Op      string    `parser:"(  @(\"-\" | \"+\")"`
	X       *gUnary   `parser:"   @@"`
	Postfix *gPostfix `parser:"| @@ )"`
}

type gPostfix struct {
	Pos     lexer.Position
	Primary *gPrimary  `parser:"@@"`
	Ops     []*gPostOp `parser:"@@*"`
}

type gPostOp struct {
	Pos    lexer.Position
	Member string `parser:"(  \".\" @(Ident|Backtick|Keyword|Int)"`
	Open   bool   `parser:" | @\"[\""`
	Lo     *gAnd  `parser:"    @@?"`
	Colon  bool   `parser:"    @\":\"?"`
	Hi     *gAnd  `parser:"    @@? \"]\" )"`
}

type gPrimary struct {
	Pos       lexer.Position
	SubSelect *gSelect `parser:"  \"{\" @@ \"}\""`
	Paren     *gGroup  `parser:"| \"(\" @@ \")\""`
	Bracket   *gGroup  `parser:"| \"[\" @@ \"]\""`
	Float     *string  `parser:"| @Float"`
	Int       *string  `parser:"| @Int"`
	Raw       *string  `parser:"| @RawString"`
	String    *string  `parser:"| @String"`
	Keyword   *string  `parser:"| @(\"TRUE\" | \"FALSE\" | \"NULL\")"`
	Call      *gCall   `parser:"| @@"`
}

// gGroup is the inside of `parser:"( … )"` or `parser:"[ … ]"`: empty, or a comma list.
type gGroup struct {
	List *gComma `parser:"@@?"`
}

type gCall struct {
	Pos    lexer.Position
	Name   string  `parser:"@(Ident|Backtick)"`
	IsCall bool    `parser:"( @\"(\""`
	Args   []*gArg `parser:"  ( @@ ( \",\" @@ )* \",\"? )? \")\" )?"`
}
