package vql

import (
	"iter"
	"slices"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/ast"
	"github.com/vqlq/vqlq/vql/value"
)

// compareKeys orders two rows by their ORDER BY keys: negative when a
// sorts first. Equal keys compare 0; the caller keeps input order.
func compareKeys(order []*ast.OrderKey, a, b []any) int {
	for k, key := range order {
		c := value.SortCompare(a[k], b[k])
		if c == 0 {
			continue
		}
		if key.Desc {
			return -c
		}
		return c
	}
	return 0
}

// ranked is a row kept by topK: its keys, its place in the input (ties
// keep input order) and its estimated size (what it is charged).
type ranked struct {
	sortable
	seq  int64
	size int64
}

// topHeap holds the best k rows seen so far; its root is the one that
// sorts last, the first to go when a better row comes.
type topHeap struct {
	order []*ast.OrderKey
	rows  []ranked
}

// after reports whether a sorts after b: by keys, then by input order.
func (h *topHeap) after(a, b *ranked) bool {
	if c := compareKeys(h.order, a.keys, b.keys); c != 0 {
		return c > 0
	}
	return a.seq > b.seq
}

func (h *topHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.after(&h.rows[i], &h.rows[p]) {
			return
		}
		h.rows[i], h.rows[p] = h.rows[p], h.rows[i]
		i = p
	}
}

func (h *topHeap) down(i int) {
	n := len(h.rows)
	for {
		last := i
		if l := 2*i + 1; l < n && h.after(&h.rows[l], &h.rows[last]) {
			last = l
		}
		if r := 2*i + 2; r < n && h.after(&h.rows[r], &h.rows[last]) {
			last = r
		}
		if last == i {
			return
		}
		h.rows[i], h.rows[last] = h.rows[last], h.rows[i]
		i = last
	}
}

// topK answers `ORDER BY … LIMIT k` holding k rows instead of all of
// them, in the order the full stable sort would give. Every row is still
// built, as for the full sort: its columns may act (send_event(), log())
// or count (a running count() seen by the rows after it).
func (e *executor) topK(src iter.Seq[Row], yield func(Row) bool, k int64) {
	h := &topHeap{order: e.plan.sel.OrderBy, rows: make([]ranked, 0, min(k, 1024))}
	held := e.qs.hold("ORDER BY … LIMIT")
	defer held.release()
	var seq int64
	scratch := make([]any, len(h.order)) // the keys of a row that may not make it
	ks := e.rs.Child()                   // without GROUP BY, one key scope serves every row
	for row := range e.survivors(src) {
		out := e.build(row)
		cand := ranked{sortable: sortable{row: out, keys: e.keysInto(ks, out, scratch)}, seq: seq}
		seq++
		full := int64(len(h.rows)) == k
		if full && !h.after(&h.rows[0], &cand) {
			continue
		}
		cand.keys = slices.Clone(scratch)
		cand.size = sizeSortEntry + estimateSize(cand.row)
		if full {
			held.drop(h.rows[0].size)
			h.rows[0] = cand
			h.down(0)
		} else {
			h.rows = append(h.rows, cand)
			h.up(len(h.rows) - 1)
		}
		if !held.add(cand.size) {
			return
		}
	}
	if e.ctx.Err() != nil {
		return // cancelled: a partial answer is not the answer
	}
	slices.SortFunc(h.rows, func(a, b ranked) int {
		if h.after(&a, &b) {
			return 1
		}
		if h.after(&b, &a) {
			return -1
		}
		return 0
	})
	for _, r := range h.rows {
		if !yield(r.row) {
			return
		}
	}
}

// keysInto evaluates the ORDER BY keys for the row just built, into
// keys, in ks, a child of the row scope: they see the output columns by
// name, then the plugin's row.
func (e *executor) keysInto(ks *Scope, out *ordereddict.Dict, keys []any) []any {
	ks.row = out
	ks.quiet = true
	for i, k := range e.plan.sel.OrderBy {
		keys[i] = ks.Materialize(e.ctx, ks.Eval(e.ctx, k.Expr))
	}
	return keys
}
