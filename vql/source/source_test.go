package source

import "testing"

func TestErrorQuotesLineWithCaret(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{
			name: "file and second line",
			err:  Error{File: "script.vql", Pos: Pos{Line: 2, Column: 10}, Msg: `unexpected token "FORM" (expected FROM)`, Text: "LET X = 1\nSELECT * FORM scope()\n"},
			want: "script.vql:2:10: unexpected token \"FORM\" (expected FROM)\nSELECT * FORM scope()\n         ^",
		},
		{
			name: "no file, tab kept",
			err:  Error{Pos: Pos{Line: 1, Column: 3}, Msg: "bad", Text: "\tX?"},
			want: "1:3: bad\n\tX?\n\t ^",
		},
		{
			name: "line out of range has no quote",
			err:  Error{Pos: Pos{Line: 9, Column: 1}, Msg: "bad", Text: "x"},
			want: "9:1: bad",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
