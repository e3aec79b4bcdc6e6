package suggest

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"range", "format", "upcase", "SELECT", "AS", "ASC"}
	tests := []struct{ name, want string }{
		{"rnage", "range"},   // swapped neighbours
		{"rang", "range"},    // one letter missing
		{"fromat", "format"}, // swapped
		{"upcse", "upcase"},
		{"selec", "SELECT"}, // case does not matter
		{"ass", "AS"},       // a tie goes to the first known name
		{"F", ""},           // replacing the whole name is no suggestion
		{"zzzzzz", ""},
		{"rnaeg", ""}, // two slips in five letters is too far
	}
	for _, tt := range tests {
		if got := Closest(tt.name, known); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := DidYouMean("rnage", known); got != " (did you mean range?)" {
		t.Errorf("DidYouMean = %q", got)
	}
}
