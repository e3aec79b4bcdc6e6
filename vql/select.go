package vql

import (
	"context"
	"iter"
	"sort"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/value"
)

// plan is what a SELECT needs at run time that depends only on its text;
// it is computed once per query and kept on the query's node (see
// ast.Select.Plan), so it is freed with the program.
type plan struct {
	sel      *ast.Select
	names    []string       // output name per column ("" for *)
	byName   map[string]int // output name -> last column of that name
	starOnly bool
}

func planFor(sel *ast.Select) *plan { return sel.Plan(buildPlan).(*plan) }

func buildPlan(sel *ast.Select) any {
	p := &plan{sel: sel, names: make([]string, len(sel.Columns)), byName: map[string]int{}}
	for i, c := range sel.Columns {
		if c.Star {
			continue
		}
		p.names[i] = c.Name()
		p.byName[p.names[i]] = i
	}
	p.starOnly = len(sel.Columns) == 1 && sel.Columns[0].Star
	return p
}

// lazyRow holds the columns of the row being built. A column is computed
// when first read — by WHERE, by another column, or when the row is
// emitted — and at most once per row.
type lazyRow struct {
	plan  *plan
	ctx   context.Context
	scope *Scope
	vals  []any
	state []uint8 // 0 not computed, 1 computing, 2 done
}

const (
	colPending = iota
	colComputing
	colDone
)

func (r *lazyRow) reset() {
	clear(r.state)
	clear(r.vals)
}

// lookup finds a column by name. A column being computed is skipped, so
// `SELECT foo + 1 AS foo` reads the plugin's foo.
func (r *lazyRow) lookup(name string) (any, bool) {
	i, ok := r.plan.byName[name]
	if !ok || r.state[i] == colComputing {
		return nil, false
	}
	return r.get(i), true
}

func (r *lazyRow) get(i int) any {
	switch r.state[i] {
	case colDone:
		return r.vals[i]
	case colComputing:
		return nil
	}
	r.state[i] = colComputing
	col := r.plan.sel.Columns[i]
	var v any
	if sub, ok := col.Expr.(*ast.SubSelect); ok {
		v = r.scope.subSelectColumn(r.ctx, sub.Select)
	} else {
		v = r.scope.Eval(r.ctx, col.Expr)
	}
	r.vals[i] = v
	r.state[i] = colDone
	return v
}

// subSelectColumn computes a `{ SELECT … }` column the way vfilter does:
// rows of a single column become that column's values, no rows is NULL,
// and a single result stands alone rather than in a list.
func (s *Scope) subSelectColumn(ctx context.Context, sel *ast.Select) any {
	items := s.collect(ctx, s.Query(ctx, sel), "a { SELECT … } column", func(row Row) any {
		if d, _ := row.(*ordereddict.Dict); d != nil && d.Len() == 1 {
			return s.Materialize(ctx, d.Values()[0])
		}
		return row
	})
	switch len(items) {
	case 0:
		return nil
	case 1:
		return items[0]
	}
	return items
}

// Query runs a SELECT in scope and yields its rows (each an
// *ordereddict.Dict with every value materialised).
func (s *Scope) Query(ctx context.Context, sel *ast.Select) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		if (sel.Limit != nil && *sel.Limit == 0) || ctx.Err() != nil {
			return // a query per row of a list (foreach) ends here when stopped
		}
		q := s.Child()
		e := &executor{ctx: ctx, plan: planFor(sel), qs: q}
		e.rs = q.Child()
		e.lr = &lazyRow{plan: e.plan, ctx: ctx, scope: e.rs, vals: make([]any, len(sel.Columns)), state: make([]uint8, len(sel.Columns))}
		e.rs.cols = e.lr
		src := q.rowsFrom(ctx, sel.From)
		switch {
		case len(sel.GroupBy) > 0:
			e.grouped(src, yield)
		case len(sel.OrderBy) > 0 && sel.Limit != nil && *sel.Limit > 0:
			e.topK(src, yield, *sel.Limit)
		case len(sel.OrderBy) > 0:
			e.ordered(src, yield)
		default:
			e.stream(src, yield)
		}
	}
}

// executor runs one SELECT. rs is the row scope, reused from row to row.
type executor struct {
	ctx  context.Context
	plan *plan
	qs   *Scope
	rs   *Scope
	lr   *lazyRow
}

// next prepares the row scope for a new plugin row and applies WHERE.
func (e *executor) next(row Row) bool {
	e.rs.row = row
	e.lr.reset()
	where := e.plan.sel.Where
	if where == nil {
		return true
	}
	e.rs.quiet = true
	ok := e.rs.truthy(e.ctx, e.rs.Eval(e.ctx, where))
	e.rs.quiet = e.qs.quiet
	return ok
}

func (e *executor) limit() int64 {
	if e.plan.sel.Limit == nil {
		return -1
	}
	return *e.plan.sel.Limit
}

// survivors yields the plugin rows that pass WHERE, with the row scope
// prepared for each; it stops when the query is cancelled.
func (e *executor) survivors(src iter.Seq[Row]) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		var n int
		for row := range src {
			if n++; n&255 == 0 && e.ctx.Err() != nil {
				return
			}
			if e.next(row) && !yield(row) {
				return
			}
		}
	}
}

func (e *executor) stream(src iter.Seq[Row], yield func(Row) bool) {
	limit := e.limit()
	var n int64
	for row := range e.survivors(src) {
		out := e.build(row)
		if e.ctx.Err() != nil {
			return // stopped while building: the row is not whole
		}
		if !yield(out) {
			return
		}
		n++
		if n == limit {
			return
		}
	}
}

// build makes the output row: columns in order, `*` adding the plugin row's
// members that no earlier column has set.
func (e *executor) build(row Row) *ordereddict.Dict {
	ctx, rs := e.ctx, e.rs
	if e.plan.starOnly {
		if d, ok := row.(*ordereddict.Dict); ok {
			return rs.materializeDict(ctx, d)
		}
	}
	out := ordereddict.NewDict()
	for i, c := range e.plan.sel.Columns {
		if c.Star {
			if d, ok := row.(*ordereddict.Dict); ok {
				for _, item := range d.Items() {
					if _, exists := out.Get(item.Key); !exists {
						out.Set(item.Key, rs.Materialize(ctx, item.Value))
					}
				}
				continue
			}
			for _, k := range value.Keys(row) {
				if _, exists := out.Get(k); !exists {
					v, _ := value.Member(row, k)
					out.Set(k, rs.Materialize(ctx, v))
				}
			}
			continue
		}
		out.Set(e.plan.names[i], rs.Materialize(ctx, e.lr.get(i)))
	}
	return out
}

// sortable is an output row waiting for ORDER BY, with its key values.
type sortable struct {
	row  *ordereddict.Dict
	keys []any
}

// sortKeys evaluates the ORDER BY keys for the row just built: they see the
// output columns by name, then the plugin's row.
func (e *executor) sortKeys(out *ordereddict.Dict) []any {
	return e.keysInto(e.rs.Child(), out, make([]any, len(e.plan.sel.OrderBy)))
}

func (e *executor) ordered(src iter.Seq[Row], yield func(Row) bool) {
	var rows []sortable
	held := e.qs.hold("ORDER BY")
	defer held.release()
	for row := range e.survivors(src) {
		out := e.build(row)
		rows = append(rows, sortable{row: out, keys: e.sortKeys(out)})
		if !held.add(sizeSortEntry + estimateSize(out)) {
			return
		}
	}
	if e.ctx.Err() != nil {
		return // cancelled: a partial sort is not the answer
	}
	e.emitSorted(rows, yield)
}

func (e *executor) emitSorted(rows []sortable, yield func(Row) bool) {
	if len(e.plan.sel.OrderBy) > 0 {
		order := e.plan.sel.OrderBy
		sort.SliceStable(rows, func(i, j int) bool {
			return compareKeys(order, rows[i].keys, rows[j].keys) < 0
		})
	}
	limit := e.limit()
	for i, r := range rows {
		if int64(i) == limit || !yield(r.row) {
			return
		}
	}
}

// group is one GROUP BY bin: its own aggregate state and its latest row.
type group struct {
	agg *aggContext
	out sortable
}

func (e *executor) grouped(src iter.Seq[Row], yield func(Row) bool) {
	groups := map[string]*group{}
	var order []*group
	var key strings.Builder
	held := e.qs.hold("GROUP BY")
	defer held.release()
	for row := range e.survivors(src) {
		key.Reset()
		for i, g := range e.plan.sel.GroupBy {
			if i > 0 {
				key.WriteByte(0)
			}
			writeGroupKey(&key, e.rs.Resolve(e.ctx, e.rs.Eval(e.ctx, g)))
		}
		g, seen := groups[key.String()]
		if !seen {
			g = &group{agg: newAggContext()}
			groups[key.String()] = g
			order = append(order, g)
		}
		e.rs.agg = g.agg
		out := e.build(row)
		g.out.row = out
		if len(e.plan.sel.OrderBy) > 0 {
			g.out.keys = e.sortKeys(out)
		}
		e.rs.agg = e.qs.agg
		// A group is charged when it is made; growing aggregates
		// (enumerate) charge what they add.
		if !seen && !held.add(int64(key.Len())+estimateSize(out)) {
			return
		}
	}
	if e.ctx.Err() != nil {
		return // cancelled: partial groups are not the answer
	}
	rows := make([]sortable, len(order))
	for i, g := range order {
		rows[i] = g.out
	}
	e.emitSorted(rows, yield)
}

// writeGroupKey renders a group key the way vfilter compares them: by
// their text, so 1 and "1" fall in one group.
func writeGroupKey(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("Null")
	case string:
		b.WriteString(t)
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(t, 'g', -1, 64))
	case bool:
		b.WriteString(strconv.FormatBool(t))
	default:
		if l, ok := value.AsList(v); ok {
			for i, x := range l {
				if i > 0 {
					b.WriteByte(',')
				}
				writeGroupKey(b, x)
			}
			return
		}
		b.WriteString(toJSONText(v))
	}
}
