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
	Default *gExpr `parser:"( \"=\" @@ )?"`
}

type gSelect struct {
	Pos     lexer.Position
	Columns []*gColumn `parser:"\"SELECT\" @@ ( \",\" @@ )*"`
	From    *gPlugin   `parser:"\"FROM\" @@"`
	Where   *gComma    `parser:"( \"WHERE\" @@ )?"`
	GroupBy []*gExpr   `parser:"( \"GROUP\" \"BY\" @@ ( \",\" @@ )* )?"`
	OrderBy []*gOrder  `parser:"( \"ORDER\" \"BY\" @@ ( \",\" @@ )* )?"`
	Limit   *gLimit    `parser:"( \"LIMIT\" @@ )?"`
}

type gLimit struct {
	Pos   lexer.Position
	Value string `parser:"@Int"`
}

// gColumn is one column; after `*` the next column may follow without a
// comma (`SELECT * foo AS Bar FROM …`), as vfilter's grammar allows:
// convert.go flattens After into the column list. Two names in a row are
// not read as such a column, so that `SELECT * FORM x` is blamed on FORM.
type gColumn struct {
	Pos   lexer.Position
	Star  bool     `parser:"(  @\"*\""`
	After *gColumn `parser:"   ( (?! (Ident|Backtick) (Ident|Backtick) ) @@ )?"`
	Expr  *gExpr   `parser:" | @@ )"`
	Alias string   `parser:"( \"AS\" @(Ident|Backtick|\"GROUP\"|\"ORDER\"|\"BY\"|\"ASC\"|\"DESC\") )?"`
}

type gOrder struct {
	Expr *gExpr `parser:"@@"`
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
	Value *gExpr `parser:"@@"`
}

// gComma is level 1: `a, b` builds an array.
type gComma struct {
	Pos      lexer.Position
	Head     *gExpr   `parser:"@@"`
	Tail     []*gExpr `parser:"( \",\" @@ )*"`
	Trailing bool     `parser:"@\",\"?"`
}

// gExpr is an expression without top-level commas, read flat — operands
// separated by binary operators — and given its precedence by convert.go.
// A grammar level per precedence would allocate a struct per level for
// every operand; the flat form parses several times faster.
type gExpr struct {
	Pos  lexer.Position
	Head *gOperand `parser:"@@"`
	Tail []*gBinOp `parser:"@@*"`
}

type gBinOp struct {
	Pos   lexer.Position
	Op    string    `parser:"@BinOp"`
	Right *gOperand `parser:"@@"`
}

// gOperand is an operand: prefix operators (unary minus and plus, NOT —
// the lexer marks them), a primary, and member, index and slice suffixes.
type gOperand struct {
	Pos     lexer.Position
	Prefix  []string   `parser:"@Prefix*"`
	Primary *gPrimary  `parser:"@@"`
	Ops     []*gPostOp `parser:"@@*"`
}

type gPostOp struct {
	Pos    lexer.Position
	Member string `parser:"(  \".\" @(Ident|Backtick|Keyword|Int)"`
	Open   bool   `parser:" | @\"[\""`
	Lo     *gExpr `parser:"    @@?"`
	Colon  bool   `parser:"    @\":\"?"`
	Hi     *gExpr `parser:"    @@? \"]\" )"`
}

// gPrimary is a literal, a name or call, or a bracketed form. GROUP,
// ORDER, BY, ASC and DESC are names wherever the grammar is not reading
// GROUP BY or ORDER BY (`SELECT Group FROM …`, `Group.RID`), as in vfilter.
type gPrimary struct {
	Pos       lexer.Position
	Name      string   `parser:"(  @(Ident|Backtick|\"GROUP\"|\"ORDER\"|\"BY\"|\"ASC\"|\"DESC\")"`
	IsCall    bool     `parser:"   ( @\"(\""`
	Args      []*gArg  `parser:"     ( @@ ( \",\" @@ )* \",\"? )? \")\" )? )"`
	String    *string  `parser:"| @String"`
	Int       *string  `parser:"| @Int"`
	Float     *string  `parser:"| @Float"`
	Keyword   *string  `parser:"| @(\"TRUE\" | \"FALSE\" | \"NULL\")"`
	Paren     *gGroup  `parser:"| \"(\" @@ \")\""`
	SubSelect *gSelect `parser:"| \"{\" @@ \"}\""`
	Bracket   *gGroup  `parser:"| \"[\" @@ \"]\""`
	Raw       *string  `parser:"| @RawString"`
}

// gGroup is the inside of ( … ) or [ … ]: empty, or a comma list.
type gGroup struct {
	List *gComma `parser:"@@?"`
}
