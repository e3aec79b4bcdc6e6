package artifacts

import (
	"reflect"
	"testing"
)

func TestDependenciesAndClosure(t *testing.T) {
	r := NewRepository(NewMemoryStorage())
	for _, text := range []string{
		"name: Custom.Top\ntype: CLIENT_EVENT\nimports: [Custom.Lib]\nprecondition: SELECT * FROM Artifact.Custom.Pre()\nsources:\n  - query: |\n      SELECT * FROM Artifact.Custom.Mid(x=1)\n      UNION SELECT * FROM Artifact.Custom.Mid ()\n      UNION SELECT * FROM Artifact.Custom.Gone()\n",
		"name: Custom.Lib\nexport: LET X = 1\n",
		"name: Custom.Pre\nsources:\n  - query: SELECT 1 FROM scope()\n",
		"name: Custom.Mid\nsources:\n  - query: SELECT * FROM Artifact.Custom.Leaf()\n",
		"name: Custom.Leaf\nsources:\n  - query: SELECT * FROM Artifact.Custom.Mid()\n",
	} {
		mustSet(t, r, "o", text)
	}
	top, _ := r.Get("o", "Custom.Top")
	list, missing := r.Closure("o", "Custom.Top")
	unknown, unknownMissing := r.Closure("o", "Custom.Nope")
	tests := []struct {
		name      string
		got, want []string
	}{
		{"direct, each once, imports first", top.Dependencies(), []string{"Custom.Lib", "Custom.Pre", "Custom.Mid", "Custom.Gone"}},
		{"closure (a cycle ends)", names(list), []string{"Custom.Top", "Custom.Lib", "Custom.Pre", "Custom.Mid", "Custom.Leaf"}},
		{"missing dependencies", missing, []string{"Custom.Gone"}},
		{"unknown artifact", names(unknown), nil},
		{"unknown artifact is missing", unknownMissing, []string{"Custom.Nope"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
