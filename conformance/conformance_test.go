package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/parser"
	"github.com/vqlq/vqlq/vql/value"
)

// runCase runs every statement of a case in one fixture session and
// returns the first mismatch, if any, and what the check before a run
// refused first (the statement runs anyway, to compare its rows).
func runCase(c Case) (failure, refused string) {
	f := newFixture()
	defer func() {
		if r := recover(); r != nil {
			failure = fmt.Sprintf("panic: %v", r)
		}
	}()
	ctx := context.Background()
	for _, st := range c.Statements {
		prog, err := parser.Parse(st.Query, "")
		if err != nil {
			return fmt.Sprintf("query: %s\n  parse error: %v", st.Query, err), refused
		}
		if err := f.session.Check(prog); err != nil && refused == "" {
			refused = fmt.Sprintf("query: %s\n  %v", st.Query, err)
		}
		rows := []*ordereddict.Dict{}
		for r := range f.session.Run(ctx, prog) {
			rows = append(rows, r.Row)
		}
		got, err := json.Marshal(rows)
		if err != nil {
			return fmt.Sprintf("query: %s\n  cannot encode rows: %v", st.Query, err), refused
		}
		if f.panicked.Load() {
			return fmt.Sprintf("query: %s\n  the panic() fixture fired: an expression was evaluated that should not have been", st.Query), refused
		}
		if !SameJSON(got, st.Expected) {
			return fmt.Sprintf("query: %s\n  expected: %s\n  got:      %s", st.Query, Compact(st.Expected), got), refused
		}
	}
	return "", refused
}

// runExpression evaluates one expressions.json entry.
func runExpression(e Expression) string {
	var expected any
	_ = json.Unmarshal(e.Expected, &expected)
	expr, err := parser.ParseExpr(e.Expression)
	if s, ok := expected.(string); ok && s == "PARSE ERROR" {
		if err == nil {
			return "expected a parse error"
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("parse error: %v", err)
	}
	f := newFixture()
	ctx := context.Background()
	sc := f.session.Scope()
	got := sc.Materialize(ctx, sc.Eval(ctx, expr))
	want, _ := decodeForVQL(e.Expected)
	if !value.Equal(got, want) {
		b, _ := json.Marshal(got)
		return fmt.Sprintf("expected %s, got %s", Compact(e.Expected), b)
	}
	return ""
}

// decodeForVQL decodes JSON into VQL values (ordered dicts, int64 where
// whole) so VQL equality can compare them.
func decodeForVQL(raw []byte) (any, error) {
	v, err := decodeOrdered(raw)
	if err != nil {
		return nil, err
	}
	return toVQL(v), nil
}

func toVQL(v any) any {
	switch t := v.(type) {
	case []pair:
		d := ordereddict.NewDict()
		for _, p := range t {
			d.Set(p.k, toVQL(p.v))
		}
		return d
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = toVQL(e)
		}
		return out
	case float64:
		if t == float64(int64(t)) {
			return int64(t)
		}
	}
	return v
}

func TestConformance(t *testing.T) {
	dir, ok, tried := Dir()
	if !ok {
		t.Skipf("vfilter conformance corpus not found; looked in: %s (set VQLQ_CONFORMANCE_DIR)", strings.Join(tried, ", "))
	}
	deviations, err := Deviations("deviations.txt")
	if err != nil {
		t.Fatal(err)
	}
	refusals, err := Deviations("refusals.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases, err := LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	exprs, err := LoadExpressions(dir)
	if err != nil {
		t.Fatal(err)
	}
	passed, failed, deviated := 0, 0, 0
	seen := map[string]bool{}
	report := func(id, name, failure string) {
		seen[id] = true
		if failure == "" {
			passed++
			if _, listed := deviations[id]; listed {
				t.Errorf("%s %s: passes but is listed in deviations.txt; remove it", id, name)
			}
			return
		}
		failed++
		if reason, listed := deviations[id]; listed {
			deviated++
			t.Logf("known deviation %s %s (%s)\n  %s", id, name, reason, failure)
			return
		}
		t.Errorf("FAIL %s %s\n  %s", id, name, failure)
	}
	refusedN := 0
	for _, c := range cases {
		failure, refused := runCase(c)
		report(c.ID, c.Name, failure)
		_, listed := refusals[c.ID]
		switch {
		case refused != "" && listed:
			refusedN++
		case refused != "":
			t.Errorf("REFUSED %s %s: the check refuses a program vfilter runs (list it in refusals.txt if on purpose)\n  %s", c.ID, c.Name, refused)
		case listed:
			t.Errorf("%s %s: the check accepts it but it is listed in refusals.txt; remove it", c.ID, c.Name)
		}
	}
	for i, e := range exprs {
		id := fmt.Sprintf("expr/%03d", i)
		report(id, e.Expression, runExpression(e))
	}
	for _, id := range sortedIDs(deviations) {
		if !seen[id] {
			t.Errorf("deviations.txt names %s, which is not in the corpus", id)
		}
	}
	for _, id := range sortedIDs(refusals) {
		if !seen[id] {
			t.Errorf("refusals.txt names %s, which is not in the corpus", id)
		}
	}
	t.Logf("conformance: %d passed, %d failed (%d known deviations); the check refuses %d cases before they run (refusals.txt)", passed, failed, deviated, refusedN)
	fmt.Printf("conformance: %d passed, %d failed\n", passed, failed)
}
