package parser

import "testing"

// TestVfilterLaxForms covers what vfilter's grammar accepts beyond the
// strict form: a column after * without a comma, and GROUP, ORDER, BY, ASC
// and DESC as names outside GROUP BY and ORDER BY. want is the canonical
// text the program reads as.
func TestVfilterLaxForms(t *testing.T) {
	tests := []struct{ text, want string }{
		{"SELECT * {SELECT 1 FROM scope()} AS X FROM scope()", "SELECT *, { SELECT 1 FROM scope() } AS X FROM scope()"},
		{"SELECT *\n  foo AS Bar FROM x", "SELECT *, foo AS Bar FROM x"},
		{"SELECT * if(condition=TRUE, then=1) AS A, B FROM x", "SELECT *, if(condition=TRUE, then=1) AS A, B FROM x"},
		{"SELECT * foo FROM x", "SELECT *, foo FROM x"},
		{"SELECT *, foo FROM x", "SELECT *, foo FROM x"},
		{"SELECT Group, Name FROM x", "SELECT Group, Name FROM x"},
		{"SELECT Group.RID, group.name AS Order FROM x", "SELECT Group.RID, group.name AS Order FROM x"},
		{"SELECT Order, By, Asc, Desc FROM x ORDER BY Desc DESC", "SELECT Order, By, Asc, Desc FROM x ORDER BY Desc DESC"},
		{"SELECT count() AS N FROM x GROUP BY Group ORDER BY Order", "SELECT count() AS N FROM x GROUP BY Group ORDER BY Order"},
		{"SELECT * FROM x WHERE Group = 1 group by Group order by N asc", "SELECT * FROM x WHERE Group = 1 GROUP BY Group ORDER BY N ASC"},
		{"SELECT Group - 1 FROM x ORDER BY -Group", "SELECT Group - 1 FROM x ORDER BY -Group"},
		{"SELECT parse(struct=\"AliasC\") AS Group FROM x", "SELECT parse(struct=\"AliasC\") AS Group FROM x"},
	}
	for _, tt := range tests {
		prog, err := Parse(tt.text, "")
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if got := prog.String(); got != tt.want {
			t.Errorf("%q\n got %s\nwant %s", tt.text, got, tt.want)
		}
	}
	refused := []struct{ text, want string }{
		{"SELECT * FORM x", "1:10: unexpected token \"FORM\""},
		{"SELECT * AS X FROM x", "* cannot have an alias"},
		{"SELECT a b FROM x", "1:10: unexpected token \"b\""},
		{"SELECT * FROM x GROUP Group", "unexpected token \"Group\""},
	}
	for _, tt := range refused {
		if _, err := Parse(tt.text, ""); err == nil || !contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want an error containing %q", tt.text, err, tt.want)
		}
	}
}
