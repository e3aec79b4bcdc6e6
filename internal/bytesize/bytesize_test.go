package bytesize

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"4096", 4096, false},
		{"512B", 512, false},
		{"12MiB", 12 << 20, false},
		{"12 mib", 12 << 20, false},
		{"12MB", 12e6, false},
		{"2GB", 2e9, false},
		{"1.5GiB", 3 << 29, false},
		{"10k", 10 << 10, false},
		{"272M", 272 << 20, false},
		{"2T", 2 << 40, false},
		{"", 0, true},
		{"-1MB", 0, true},
		{"lots", 0, true},
		{"12XB", 0, true},
		{"NaN", 0, true},
		{"1e30", 0, true},
		{"9000000TiB", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 512: "512 B", 272 << 20: "272.0 MiB", 3 << 29: "1.5 GiB", 9 << 40: "9.0 TiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
