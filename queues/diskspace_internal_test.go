package queues

import (
	"errors"
	"testing"
)

// Below the watermark writes are refused with ErrDiskFull; the check
// itself is a statfs of the folder's disk.
func TestSpaceGuardRefusesBelowWatermark(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		min  uint64
		full bool
	}{
		{"far below the free space", 1 << 20, false},
		{"above any disk", 1 << 62, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newSpaceGuard(dir, tt.min)
			defer g.close()
			err := g.admit(100)
			if tt.full != errors.Is(err, ErrDiskFull) {
				t.Fatalf("admit: %v", err)
			}
			st := g.state()
			if st.Full != tt.full || st.Free == 0 || st.MinFree != tt.min || (st.Refused > 0) != tt.full {
				t.Fatalf("state %+v", st)
			}
		})
	}
	if newSpaceGuard(dir, 0) != nil || (*spaceGuard)(nil).admit(1) != nil {
		t.Fatal("a watermark of 0 must admit everything")
	}
}

// BenchmarkSpaceGuardAdmit is the watermark's cost per send: an atomic
// add and load, and a statfs every quarter of the watermark written.
func BenchmarkSpaceGuardAdmit(b *testing.B) {
	g := newSpaceGuard(b.TempDir(), 1<<20)
	defer g.close()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := g.admit(100); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := g.admit(100); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
